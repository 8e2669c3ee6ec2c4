"""A demo-day plan's exports: CSV and XLSX (one row per demo), the printable page and the heat map.

Every link the printable page holds is relative to it (`export.csv`, `heatmap.png`), so the page works
wherever it is served from: under /api/v1 with a key, or later from a signed-in facilitator page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date
from functools import partial
from html import escape

from babel.dates import format_date
from sqlalchemy.orm import Session

from app import models
from app.core.spreadsheets import Sheet, csv_text, workbook_bytes
from app.pairing.service import FAIRNESS_WORDS, Assigned, Names, engine_plan, names, ordered, totals, totals_summary
from app.web.i18n import DEFAULT_LANGUAGE, N_, gettext, translations
from matching.pairing.heatmap import HeatmapWords, heatmap_png

COLUMNS = (
    "round",
    "table",
    "provider_id",
    "provider_ref",
    "provider",
    "company_id",
    "company_ref",
    "company",
    "score",
    "locked",
    "technology_id",
    "technology",
    "need_id",
    "need",
)


def _row(a: Assigned, found: Names) -> tuple[object, ...]:
    provider_ref, provider_name = found.provider(a["provider_id"])
    company_ref, company_name = found.company(a["company_id"])
    return (
        a["round"],
        a["table"],
        a["provider_id"],
        provider_ref,
        provider_name,
        a["company_id"],
        company_ref,
        company_name,
        round(a["score"], 4),
        "yes" if a["locked"] else "no",
        a.get("technology_id"),
        found.technology(a.get("technology_id")),
        a.get("need_id"),
        found.need(a.get("need_id")),
    )


def export_csv(session: Session, plan: models.PairingPlan) -> str:
    """One row per demo, by round, provider and table; text cells cannot run as formulas."""
    found = names(session, plan)
    rows = [_row(a, found) for a in ordered(plan.current.assignments)]
    return csv_text(COLUMNS, [(*row[:8], f"{row[8]:.4f}", *row[9:]) for row in rows])


def export_xlsx(session: Session, plan: models.PairingPlan) -> bytes:
    """The demos as a workbook (one sheet, as the CSV), with a sheet of the totals and what each means."""
    found = names(session, plan)
    figures = totals(plan.current, plan)
    fields = type(figures).model_fields
    summary = [
        ("plan", plan.name or f"Demo-day plan {plan.id}", ""),
        ("revision", plan.revision, ""),
        ("fairness", plan.fairness, f"the plan's aim: {FAIRNESS_WORDS[plan.fairness]}"),
        ("summary", figures.summary, ""),
    ] + [
        (name, getattr(figures, name), fields[name].description or "")
        for name in (
            "expected_useful_demonstrations",
            "total_score",
            "optimal",
            "greedy_total_score",
            "greedy_covered_companies",
            "pairs",
            "covered_companies",
            "unassigned_companies",
            "worst_best_score",
            "rounds",
            "unscheduled",
        )
    ]
    return workbook_bytes(
        [
            Sheet(
                title="Demonstrations",
                columns=COLUMNS,
                rows=[_row(a, found) for a in ordered(plan.current.assignments)],
                widths=(7, 6, 11, 12, 30, 11, 12, 30, 7, 7, 13, 40, 8, 40),
            ),
            Sheet(title="Totals", columns=("figure", "value", "meaning"), rows=summary, widths=(30, 40, 100)),
        ]
    )


PRINT_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #111; }
h1 { margin-bottom: 0.2rem; }
.meta { color: #555; margin-top: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(20rem, 1fr)); gap: 1rem; }
article { border: 1px solid #ccc; border-radius: 4px; padding: 0.5rem 0.8rem; }
article h3 { margin: 0.2rem 0 0.4rem; font-size: 1.05rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.15rem 0.4rem; border-bottom: 1px solid #eee; vertical-align: top; }
td.num, th.num { text-align: right; }
.none { color: #777; font-style: italic; }
.locked { font-weight: 600; }
.offer { color: #444; font-size: 0.9em; }
nav a { margin-right: 1rem; }
@page { size: A4; margin: 14mm; }
@media print {
  body { margin: 0; font-size: 10pt; }
  nav { display: none; }
  .cards { display: block; }
  article { break-inside: avoid; page-break-inside: avoid; margin-bottom: 0.6rem; }
  section.companies { break-before: page; page-break-before: always; }
}
"""


# The printable page's words: English message ids (N_), in the page's language where it is made.
PRINT_WORDS = {
    "not_scheduled": N_("not scheduled"),
    "none": N_("no demonstrations"),
    "round": N_("Round"),
    "table": N_("Table"),
    "score": N_("Score"),
    "sme": N_("SME"),
    "provider": N_("Provider"),
    "plan": N_("Demo-day plan %(id)s"),
    "slots": N_("%(minutes)s-minute rounds"),
    "revision": N_("Revision %(number)s of %(made)s UTC"),
    "covered": N_("%(covered)s of %(companies)s SMEs with a demo"),
    "bold": N_("locked pairs in bold"),
    "heatmap": N_("Heat map of scores and chosen pairs"),
    "xlsx": N_("Spreadsheet (XLSX)"),
    "providers": N_("Technology providers"),
    "smes": N_("SMEs"),
}


def _label(ref: str | None, name: str) -> str:
    return f"{escape(name)} <small>({escape(ref)})</small>" if ref else escape(name)


def export_html(session: Session, plan: models.PairingPlan, *, language: str = DEFAULT_LANGUAGE) -> str:
    """A printable page: per provider its SMEs by round, per SME its providers by round, each with the offering.
    Its words are in `language` (the facilitator's page language; the API's page is English)."""
    found = names(session, plan)
    say = partial(gettext, language)
    w = {key: say(message) for key, message in PRINT_WORDS.items()}
    revision = plan.current
    by_provider: dict[int, list[Assigned]] = defaultdict(list)
    by_company: dict[int, list[Assigned]] = defaultdict(list)
    for a in ordered(revision.assignments):
        by_provider[a["provider_id"]].append(a)
        by_company[a["company_id"]].append(a)

    def round_cell(a: Assigned) -> str:
        return str(a["round"]) if a["round"] is not None else w["not_scheduled"]

    def offer(a: Assigned) -> str:
        title = found.technology(a.get("technology_id"))
        return f'<br><span class="offer">{escape(title)}</span>' if title else ""

    def card(title: str, other: str, rows: list[Assigned], describe: Callable[[Assigned], str]) -> str:
        if not rows:
            return f'<article><h3>{title}</h3><p class="none">{w["none"]}</p></article>'
        body = "".join(
            f'<tr class="{"locked" if a["locked"] else ""}"><td class="num">{round_cell(a)}</td>'
            f'<td class="num">{a["table"] or ""}</td><td>{describe(a)}{offer(a)}</td>'
            f'<td class="num">{a["score"]:.2f}</td></tr>'
            for a in rows
        )
        return (
            f"<article><h3>{title}</h3><table><thead><tr><th class=num>{w['round']}</th>"
            f"<th class=num>{w['table']}</th><th>{other}</th><th class=num>{w['score']}</th></tr></thead>"
            f"<tbody>{body}</tbody></table></article>"
        )

    providers = sorted(plan.provider_ids, key=lambda p: found.provider(p)[1].lower())
    companies = sorted(plan.company_ids, key=lambda c: found.company(c)[1].lower())
    provider_cards = "".join(
        card(_label(*found.provider(p)), w["sme"], by_provider[p], lambda a: _label(*found.company(a["company_id"])))
        for p in providers
    )
    company_cards = "".join(
        card(
            _label(*found.company(c)), w["provider"], by_company[c], lambda a: _label(*found.provider(a["provider_id"]))
        )
        for c in companies
    )
    title = escape(plan.name or w["plan"] % {"id": plan.id})
    figures = totals(revision, plan)
    summary = totals_summary(figures, fairness=plan.fairness, companies=len(plan.company_ids), say=say)
    day = f"{day_words(plan.event_date, language)} &middot; " if plan.event_date else ""
    slots = w["slots"] % {"minutes": plan.slot_minutes} + " &middot; " if plan.slot_minutes else ""
    made = w["revision"] % {"number": revision.number, "made": f"{revision.created_at:%Y-%m-%d %H:%M}"}
    held = translations(language).ngettext(
        "%(pairs)s demonstrations in %(rounds)s round", "%(pairs)s demonstrations in %(rounds)s rounds", figures.rounds
    ) % {"pairs": figures.pairs, "rounds": figures.rounds}
    covered = w["covered"] % {"covered": figures.covered_companies, "companies": len(plan.company_ids)}
    meta = f"{day}{slots}{made} &middot; {held} &middot; {covered} &middot; {w['bold']}"
    return (
        f'<!doctype html><html lang="{escape(language)}"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{PRINT_CSS}</style></head><body>"
        f'<header><h1>{title}</h1><p class="meta">{meta}</p><p class="totals">{escape(summary)}</p>'
        # Relative to .../export.html, so the page works wherever the plan is served from.
        f'<nav><a href="heatmap.png">{w["heatmap"]}</a>'
        f'<a href="export.csv">CSV</a><a href="export.xlsx">{w["xlsx"]}</a></nav>'
        "</header>"
        f'<section class="providers"><h2>{w["providers"]}</h2>'
        f'<div class="cards">{provider_cards}</div></section>'
        f'<section class="companies"><h2>{w["smes"]}</h2><div class="cards">{company_cards}</div></section>'
        "</body></html>"
    )


def day_words(day: date, language: str) -> str:
    """The day in words: "Thursday 18 March 2027", "torsdag den 18. marts 2027"."""
    if language == DEFAULT_LANGUAGE:
        return f"{day:%A %d %B %Y}"
    return format_date(day, format="EEEE 'den' d. MMMM y", locale=language)


def heatmap(session: Session, plan: models.PairingPlan, language: str = DEFAULT_LANGUAGE) -> bytes:
    """The plan's heat map, its words in `language`."""
    found = names(session, plan)
    result = engine_plan(plan)
    say = partial(gettext, language)
    name = plan.name or say(N_("Demo-day plan %(id)s")) % {"id": plan.id}
    return heatmap_png(
        result.problem.scores,
        assignments=result.solution.assignments,
        company_labels={c: _short(*found.company(c)) for c in plan.company_ids},
        provider_labels={p: _short(*found.provider(p)) for p in plan.provider_ids},
        title=say(N_("%(name)s (revision %(revision)s)")) % {"name": name, "revision": plan.revision},
        words=HeatmapWords(
            score=say(N_("match score")),
            chosen=say(N_("chosen pair")),
            locked=say(N_("locked pair")),
            providers=say(N_("technology providers (%(count)s)")),
            companies=say(N_("SMEs (%(count)s)")),
        ),
    )


def _short(ref: str | None, name: str) -> str:
    return ref or (name if len(name) <= 24 else name[:23] + "…")
