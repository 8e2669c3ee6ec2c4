"""The programme's pictures as PNG (matplotlib's Agg canvas, no display, no pyplot state), for the dashboard pages."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

from app.programme.schemas import CountRow, ProgrammePicture

PLOTS: tuple[str, ...] = ("funnel", "needs-by-category", "needs-by-sector", "time-to-demo", "provider-load")
_BAR = "#1f6f8b"
_ACCENT = "#e4007c"


def _figure(width: float, height: float) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _empty(axes: Any, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes, color="#777")
    axes.set_xticks([])
    axes.set_yticks([])


def _bars(rows: Sequence[CountRow], *, title: str, xlabel: str) -> bytes:
    shown = list(rows)[:20]
    figure, axes = _figure(8.0, max(2.5, 0.9 + 0.32 * len(shown)))
    if not shown:
        _empty(axes, "nothing in this period")
    else:
        labels = [row.label for row in shown][::-1]
        counts = [row.count for row in shown][::-1]
        bars = axes.barh(labels, counts, color=_BAR)
        axes.bar_label(bars, padding=3, fontsize=8)
        axes.set_xlabel(xlabel)
    axes.set_title(title)
    return _png(figure)


def funnel_png(picture: ProgrammePicture) -> bytes:
    """From proposed matches to adoption: the count at each step and the share of the step before."""
    figure, axes = _figure(8.0, 4.2)
    steps = picture.funnel
    if not any(step.count for step in steps):
        _empty(axes, "nothing in this period")
    else:
        names = [step.stage for step in steps]
        bars = axes.bar(names, [step.count for step in steps], color=_BAR)
        labels = [
            f"{step.count}" + (f"\n{step.conversion:.0%}" if step.conversion is not None else "") for step in steps
        ]
        axes.bar_label(bars, labels=labels, padding=2, fontsize=8)
        axes.set_ylabel("matches, then engagements")
        axes.margins(y=0.25)
    axes.set_title("From proposed to adopted (share of the step before)")
    return _png(figure)


def time_to_demo_png(picture: ProgrammePicture) -> bytes:
    summary = picture.time_to_first_demo
    figure, axes = _figure(8.0, 3.6)
    if not summary.days:
        _empty(axes, "no need has had a demonstration in this period")
    else:
        axes.hist(summary.days, bins=min(20, max(5, len(summary.days) // 3)), color=_BAR)
        if summary.median is not None:
            axes.axvline(summary.median, color=_ACCENT, linestyle="--", label=f"median {summary.median:g} days")
            axes.legend(frameon=False, fontsize="small")
        axes.set_xlabel("days from the need to its first demonstration")
        axes.set_ylabel("needs")
    axes.set_title(f"Time from need to first demonstration ({summary.needs} needs)")
    return _png(figure)


def provider_load_png(picture: ProgrammePicture) -> bytes:
    rows = [row for row in picture.provider_load if row.slots or row.demos][:25]
    figure, axes = _figure(8.0, max(2.5, 0.9 + 0.34 * len(rows)))
    if not rows:
        _empty(axes, "no demo-day plan in this period")
    else:
        names = [row.provider_name for row in rows][::-1]
        axes.barh(names, [row.slots for row in rows][::-1], color="#cfe3ea", label="slots given")
        axes.barh(names, [row.demos for row in rows][::-1], color=_BAR, height=0.5, label="demos planned")
        axes.legend(frameon=False, fontsize="small", loc="lower right")
        axes.set_xlabel("demonstrations")
    axes.set_title("Providers' load against their slots")
    return _png(figure)


_DRAW: dict[str, Callable[[ProgrammePicture], bytes]] = {
    "funnel": funnel_png,
    "needs-by-category": lambda p: _bars(p.needs_by_category, title="Needs by category", xlabel="needs"),
    "needs-by-sector": lambda p: _bars(p.needs_by_sector, title="Needs by sector", xlabel="needs"),
    "time-to-demo": time_to_demo_png,
    "provider-load": provider_load_png,
}


def plot_png(name: str, picture: ProgrammePicture) -> bytes:
    """One of PLOTS drawn from the picture, as PNG bytes."""
    return _DRAW[name](picture)
