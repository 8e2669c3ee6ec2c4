"""A picture of a demo-day plan: the company x provider scores as a heat map, chosen pairs marked."""

from __future__ import annotations

import io
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from matching.errors import MatchingError
from matching.pairing.optimiser import Assignment, ScoreMatrix

# Above this many rows or columns the names would overlap; the picture shows the pattern only.
_MAX_LABELS = 80


@dataclass(frozen=True, slots=True)
class HeatmapWords:
    """The picture's words, English unless the caller gives its reader's; `%(count)s` stands for a number."""

    score: str = "match score"
    chosen: str = "chosen pair"
    locked: str = "locked pair"
    providers: str = "technology providers (%(count)s)"
    companies: str = "SMEs (%(count)s)"


def heatmap_png(
    scores: ScoreMatrix,
    *,
    assignments: Collection[Assignment] = (),
    company_labels: Mapping[int, str] | None = None,
    provider_labels: Mapping[int, str] | None = None,
    title: str = "Demo-day plan: scores and chosen pairs",
    words: HeatmapWords = HeatmapWords(),
    dpi: int = 100,
) -> bytes:
    """The heat map as PNG bytes. Uses the Agg canvas directly: no display, no pyplot state."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise MatchingError("matplotlib is not installed; install techmatch with its dependencies") from exc

    n_companies, n_providers = scores.values.shape
    width = min(24.0, max(7.5, 3.0 + 0.32 * n_providers))
    height = min(36.0, 2.0 + 0.22 * max(n_companies, 1))
    figure = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    image = axes.imshow(scores.values, aspect="auto", cmap="YlGnBu", vmin=0.0, vmax=1.0, interpolation="nearest")
    figure.colorbar(image, ax=axes, label=words.score, shrink=0.6)

    row = {c: i for i, c in enumerate(scores.companies)}
    col = {p: j for j, p in enumerate(scores.providers)}
    # Open markers show the cell's colour beneath; in a large matrix cells are too small, so fill them.
    large = max(n_companies, n_providers) > _MAX_LABELS
    marker_size = 6.0 if large else max(16.0, min(160.0, 4000.0 / max(n_companies, n_providers, 1)))
    for locked, colour, marker in ((False, "#e4007c", "o"), (True, "#ff7f0e", "s")):
        points = [
            (col[a.provider], row[a.company])
            for a in assignments
            if a.locked == locked and a.company in row and a.provider in col
        ]
        if points:
            xs, ys = zip(*points, strict=True)
            axes.scatter(
                xs,
                ys,
                s=marker_size,
                marker=marker,
                linewidths=0 if large else 2.0,
                facecolors=colour if large else "none",
                edgecolors=colour,
            )
    axes.legend(
        handles=[
            Line2D(
                [], [], marker="o", linestyle="", markerfacecolor="none", markeredgecolor="#e4007c", label=words.chosen
            ),
            Line2D(
                [], [], marker="s", linestyle="", markerfacecolor="none", markeredgecolor="#ff7f0e", label=words.locked
            ),
        ],
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0) if n_providers > 0 else None,
        fontsize="small",
        frameon=False,
    )

    if n_providers <= _MAX_LABELS:
        axes.set_xticks(range(n_providers))
        axes.set_xticklabels([_label(provider_labels, p) for p in scores.providers], rotation=90, fontsize=7)
    if n_companies <= _MAX_LABELS:
        axes.set_yticks(range(n_companies))
        axes.set_yticklabels([_label(company_labels, c) for c in scores.companies], fontsize=7)
    axes.set_xlabel(words.providers % {"count": n_providers})
    axes.set_ylabel(words.companies % {"count": n_companies})
    axes.set_title(title)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _label(labels: Mapping[int, str] | None, ident: int) -> str:
    return labels.get(ident, str(ident)) if labels else str(ident)
