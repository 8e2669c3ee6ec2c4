"""The programme's pictures as PNG (matplotlib's Agg canvas, no display, no pyplot state), for the dashboard pages.

Their titles, axes and legends are in the page's language (`language`), and so are the names of categories and
sectors; providers' names are as the picture gives them."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

from app.engagements.schemas import STAGE_WORDS
from app.programme.schemas import CountRow, ProgrammePicture
from app.web.i18n import DEFAULT_LANGUAGE, N_, gettext
from matching.language.wording import category_label, sector_label

PLOTS: tuple[str, ...] = ("funnel", "needs-by-category", "needs-by-sector", "time-to-demo", "provider-load")
_BAR = "#1f6f8b"
_ACCENT = "#e4007c"
NOTHING = N_("nothing in this period")
# The rows of needs without a category (not indexed yet) or a sector (app.programme.service).
NOT_INDEXED = N_("not indexed")
NO_SECTOR = N_("unknown")


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


BarNames = Callable[[Sequence[CountRow], str], list[str]]


def _names(label: Callable[[str, str], str], unknown: str) -> BarNames:
    """Rows named by `label(key, language)`, the row of needs without a key by the message `unknown`."""

    def names(rows: Sequence[CountRow], language: str) -> list[str]:
        return [gettext(language, unknown) if r.key == "unknown" else label(r.key, language) for r in rows]

    return names


# The rows' categories (the needs not indexed yet say so) and sectors (the needs without one say so).
category_names = _names(category_label, NOT_INDEXED)
sector_names = _names(sector_label, NO_SECTOR)


def _bars(rows: Sequence[CountRow], *, title: str, xlabel: str, language: str, names: BarNames) -> bytes:
    """Horizontal bars of the first 20 counts, each row named by `names` in the page's language."""
    shown = list(rows)[:20]
    figure, axes = _figure(8.0, max(2.5, 0.9 + 0.32 * len(shown)))
    if not shown:
        _empty(axes, gettext(language, NOTHING))
    else:
        labels = names(shown, language)[::-1]
        counts = [row.count for row in shown][::-1]
        bars = axes.barh(labels, counts, color=_BAR)
        axes.bar_label(bars, padding=3, fontsize=8)
        axes.set_xlabel(gettext(language, xlabel))
    axes.set_title(gettext(language, title))
    return _png(figure)


def funnel_png(picture: ProgrammePicture, language: str = DEFAULT_LANGUAGE) -> bytes:
    """From proposed matches to adoption: the count at each step and the share of the step before."""
    figure, axes = _figure(8.0, 4.2)
    steps = picture.funnel
    if not any(step.count for step in steps):
        _empty(axes, gettext(language, NOTHING))
    else:
        names = [
            gettext(language, STAGE_WORDS[step.stage]) if step.stage in STAGE_WORDS else step.stage for step in steps
        ]
        bars = axes.bar(names, [step.count for step in steps], color=_BAR)
        labels = [
            f"{step.count}" + (f"\n{step.conversion:.0%}" if step.conversion is not None else "") for step in steps
        ]
        axes.bar_label(bars, labels=labels, padding=2, fontsize=8)
        axes.set_ylabel(gettext(language, N_("matches, then engagements")))
        axes.margins(y=0.25)
    axes.set_title(gettext(language, N_("From proposed to adopted (share of the step before)")))
    return _png(figure)


def time_to_demo_png(picture: ProgrammePicture, language: str = DEFAULT_LANGUAGE) -> bytes:
    summary = picture.time_to_first_demo
    figure, axes = _figure(8.0, 3.6)
    if not summary.days:
        _empty(axes, gettext(language, N_("no need has had a demonstration in this period")))
    else:
        axes.hist(summary.days, bins=min(20, max(5, len(summary.days) // 3)), color=_BAR)
        if summary.median is not None:
            median = gettext(language, N_("median %(days)s days")) % {"days": f"{summary.median:g}"}
            axes.axvline(summary.median, color=_ACCENT, linestyle="--", label=median)
            axes.legend(frameon=False, fontsize="small")
        axes.set_xlabel(gettext(language, N_("days from the need to its first demonstration")))
        axes.set_ylabel(gettext(language, N_("needs")))
    title = gettext(language, N_("Time from need to first demonstration (%(needs)s needs)"))
    axes.set_title(title % {"needs": summary.needs})
    return _png(figure)


def provider_load_png(picture: ProgrammePicture, language: str = DEFAULT_LANGUAGE) -> bytes:
    rows = [row for row in picture.provider_load if row.slots or row.demos][:25]
    figure, axes = _figure(8.0, max(2.5, 0.9 + 0.34 * len(rows)))
    if not rows:
        _empty(axes, gettext(language, N_("no demo-day plan in this period")))
    else:
        names = [row.provider_name for row in rows][::-1]
        slots, demos = gettext(language, N_("slots given")), gettext(language, N_("demos planned"))
        axes.barh(names, [row.slots for row in rows][::-1], color="#cfe3ea", label=slots)
        axes.barh(names, [row.demos for row in rows][::-1], color=_BAR, height=0.5, label=demos)
        axes.legend(frameon=False, fontsize="small", loc="lower right")
        axes.set_xlabel(gettext(language, N_("demonstrations")))
    axes.set_title(gettext(language, N_("Providers' load against their slots")))
    return _png(figure)


def _needs_by_category(picture: ProgrammePicture, language: str) -> bytes:
    rows = picture.needs_by_category
    return _bars(rows, title=N_("Needs by category"), xlabel=N_("needs"), language=language, names=category_names)


def _needs_by_sector(picture: ProgrammePicture, language: str) -> bytes:
    rows = picture.needs_by_sector
    return _bars(rows, title=N_("Needs by sector"), xlabel=N_("needs"), language=language, names=sector_names)


_DRAW: dict[str, Callable[[ProgrammePicture, str], bytes]] = {
    "funnel": funnel_png,
    "needs-by-category": _needs_by_category,
    "needs-by-sector": _needs_by_sector,
    "time-to-demo": time_to_demo_png,
    "provider-load": provider_load_png,
}


def plot_png(name: str, picture: ProgrammePicture, language: str = DEFAULT_LANGUAGE) -> bytes:
    """One of PLOTS drawn from the picture, as PNG bytes, its words in `language` (app.web.i18n)."""
    return _DRAW[name](picture, language)
