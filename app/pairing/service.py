"""Demo-day pairing use cases: plan from match scores, revise by hand with history, export."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from app import models
from app.catalogue.records import need_record, technology_record
from app.core.errors import NotFound, ValidationProblem
from app.core.settings import Settings
from app.jobs.service import JobContext
from app.models import DEFAULT_TENANT
from app.pairing.repository import PairingRepository
from app.pairing.schemas import (
    PairingAssignmentRead,
    PairingHistory,
    PairingPlanCreate,
    PairingPlanRead,
    PairingPlanSummary,
    PairingRevisionCreate,
    PairingRevisionRead,
    PairingTotals,
    PairRead,
)
from matching.matcher import Matcher
from matching.pairing import optimiser as pairing
from matching.pairing.heatmap import heatmap_png
from matching.pairing.schedule import Schedule, Slot
from matching.retrieval.texts import need_text

# One stored pair: company_id, provider_id, score, locked, round, table.
Assigned = dict[str, Any]

# A plan is solved inside a request: past this, the best plan found so far is stored, not proven optimal.
TIME_LIMIT_SECONDS = 30.0
# How deep each need is ranked for the score matrix; beyond it a pair counts as no match.
MAX_RANKING_DEPTH = 1000


# -- reading ---------------------------------------------------------------------------------


def get_plan(session: Session, *, plan_id: int, tenant: str | None = None) -> models.PairingPlan:
    """The plan; another tenant's is a 404 like a missing one."""
    plan = PairingRepository(session).get(plan_id)
    if plan is None or (tenant is not None and plan.tenant != tenant):
        raise NotFound(f"no pairing plan with id {plan_id}")
    return plan


def list_plans(
    session: Session, *, limit: int, offset: int, tenant: str | None = None
) -> tuple[list[models.PairingPlan], int]:
    return PairingRepository(session).page(limit=limit, offset=offset, tenant=tenant)


@dataclass(frozen=True, slots=True)
class _Names:
    """Display names and refs of a plan's companies and providers (deleted ones stay visible)."""

    companies: dict[int, models.Company]
    providers: dict[int, models.Provider]

    def company(self, ident: int) -> tuple[str | None, str]:
        row = self.companies.get(ident)
        return (row.ref, row.name) if row is not None else (None, f"company {ident} (deleted)")

    def provider(self, ident: int) -> tuple[str | None, str]:
        row = self.providers.get(ident)
        return (row.ref, row.name) if row is not None else (None, f"provider {ident} (deleted)")


def _names(session: Session, plan: models.PairingPlan) -> _Names:
    repository = PairingRepository(session)
    return _Names(repository.companies(plan.company_ids), repository.providers(plan.provider_ids))


def _pairs(values: Iterable[Sequence[int]]) -> list[PairRead]:
    return [PairRead(company_id=c, provider_id=p) for c, p in values]


def _totals(revision: models.PairingRevision, plan: models.PairingPlan) -> PairingTotals:
    return PairingTotals(
        total_score=revision.total_score,
        expected_useful_demonstrations=round(revision.total_score, 2),
        greedy_total_score=revision.greedy_total_score,
        optimal=revision.optimal,
        bound=revision.bound,
        gap=revision.gap,
        pairs=len(revision.assignments),
        covered_companies=revision.covered_companies,
        unassigned_companies=len(plan.company_ids) - revision.covered_companies,
        worst_best_score=revision.worst_best_score,
        rounds=revision.rounds,
        unscheduled=len(revision.unscheduled),
        seconds=revision.seconds,
    )


def plan_read(session: Session, plan: models.PairingPlan) -> PairingPlanRead:
    revision = plan.current
    names = _names(session, plan)
    assignments = []
    for item in _ordered(revision.assignments):
        company_ref, company_name = names.company(item["company_id"])
        provider_ref, provider_name = names.provider(item["provider_id"])
        assignments.append(
            PairingAssignmentRead(
                company_id=item["company_id"],
                company_ref=company_ref,
                company_name=company_name,
                provider_id=item["provider_id"],
                provider_ref=provider_ref,
                provider_name=provider_name,
                score=item["score"],
                locked=item["locked"],
                round=item["round"],
                table=item["table"],
            )
        )
    covered = {item["company_id"] for item in revision.assignments}
    return PairingPlanRead(
        id=plan.id,
        name=plan.name,
        fairness=plan.fairness,
        min_score=plan.min_score,
        max_per_company=plan.max_per_company,
        rounds=plan.rounds,
        company_ids=plan.company_ids,
        provider_ids=plan.provider_ids,
        capacities={int(k): v for k, v in plan.capacity.items()},
        tables={int(k): v for k, v in plan.tables.items()},
        must_pairs=_pairs(revision.must_pairs),
        never_pairs=_pairs(revision.never_pairs),
        revision=plan.revision,
        created_at=plan.created_at,
        updated_at=plan.updated_at,
        totals=_totals(revision, plan),
        assignments=assignments,
        unscheduled=_pairs(revision.unscheduled),
        unassigned_company_ids=[c for c in plan.company_ids if c not in covered],
    )


def plan_summary(plan: models.PairingPlan) -> PairingPlanSummary:
    return PairingPlanSummary(
        id=plan.id,
        name=plan.name,
        fairness=plan.fairness,
        revision=plan.revision,
        companies=len(plan.company_ids),
        providers=len(plan.provider_ids),
        created_at=plan.created_at,
        updated_at=plan.updated_at,
        totals=_totals(plan.current, plan),
    )


def history(plan: models.PairingPlan) -> PairingHistory:
    return PairingHistory(
        plan_id=plan.id,
        items=[
            PairingRevisionRead(
                number=r.number,
                created_at=r.created_at,
                author=r.author,
                note=r.note,
                locked=_pairs(r.locked),
                removed=_pairs(r.removed),
                added=_pairs(r.added),
                dropped=_pairs(r.dropped),
                totals=_totals(r, plan),
            )
            for r in plan.revisions
        ],
    )


def _ordered(assignments: Iterable[Assigned]) -> list[Assigned]:
    """Scheduled pairs by round, provider and table; unscheduled ones last."""
    return sorted(
        assignments,
        key=lambda a: (a["round"] is None, a["round"] or 0, a["provider_id"], a["table"] or 0, a["company_id"]),
    )


# -- planning --------------------------------------------------------------------------------


def _score_matrix(
    session: Session, *, matcher: Matcher, company_ids: Sequence[int], provider_ids: Sequence[int], settings: Settings
) -> pairing.ScoreMatrix:
    repository = PairingRepository(session)
    needs = [need_record(row) for row in repository.needs_of(company_ids)]
    technologies = [technology_record(row) for row in repository.technologies_of(provider_ids)]
    # One batched encode of all needs: per-need encoding costs far more on CPU.
    vectors = matcher.encoder.encode(
        [need_text(need) for need in needs], kind="query", batch_size=settings.encode_batch_size
    )
    return pairing.company_provider_scores(
        matcher,
        needs=needs,
        technologies=technologies,
        companies=company_ids,
        providers=provider_ids,
        query_vectors=vectors,
        k=max(1, min(matcher.catalogue.technology_count, MAX_RANKING_DEPTH)),
    )


def _stored_scores(plan: models.PairingPlan) -> pairing.ScoreMatrix:
    row = {c: i for i, c in enumerate(plan.company_ids)}
    col = {p: j for j, p in enumerate(plan.provider_ids)}
    values = np.zeros((len(row), len(col)))
    for company, provider, score in plan.scores:
        values[row[int(company)], col[int(provider)]] = score
    return pairing.ScoreMatrix(companies=tuple(plan.company_ids), providers=tuple(plan.provider_ids), values=values)


def _problem(
    plan: models.PairingPlan,
    *,
    scores: pairing.ScoreMatrix,
    must: Iterable[Sequence[int]],
    never: Iterable[Sequence[int]],
) -> pairing.PairingProblem:
    try:
        return pairing.PairingProblem(
            scores=scores,
            capacity={int(k): v for k, v in plan.capacity.items()},
            max_per_company=plan.max_per_company,
            must_pairs=frozenset((int(c), int(p)) for c, p in must),
            never_pairs=frozenset((int(c), int(p)) for c, p in never),
            min_score=plan.min_score,
            fairness=plan.fairness,  # type: ignore[arg-type]
            rounds=plan.rounds,
            tables={int(k): v for k, v in plan.tables.items()},
        )
    except pairing.PairingError as exc:
        raise ValidationProblem(str(exc)) from exc


def _check_known(
    session: Session,
    *,
    company_ids: Collection[int],
    provider_ids: Collection[int],
    tenant: str | None = None,
    shared: bool = True,
) -> None:
    """Every id exists and the tenant may see it: its own companies; providers of a shared catalogue."""
    repository = PairingRepository(session)
    companies = repository.companies(company_ids)
    providers = repository.providers(provider_ids)
    if tenant is not None:
        companies = {i: c for i, c in companies.items() if c.tenant == tenant}
        providers = {i: p for i, p in providers.items() if shared or p.tenant == tenant}
    for field, ids, found in (
        ("company_ids", company_ids, companies),
        ("provider_ids", provider_ids, providers),
    ):
        unknown = sorted(set(ids) - set(found))
        if unknown:
            raise ValidationProblem.field(("body", field), f"unknown id(s): {', '.join(map(str, unknown))}")


def check_plan(session: Session, *, data: PairingPlanCreate, settings: Settings, tenant: str) -> None:
    """What can be checked before solving: every id exists and the tenant may plan with it (422 otherwise)."""
    _check_known(
        session,
        company_ids=data.company_ids,
        provider_ids=data.provider_ids,
        tenant=tenant,
        shared=settings.share_catalogue,
    )


def create_plan(
    session: Session,
    *,
    matcher: Matcher,
    data: PairingPlanCreate,
    settings: Settings,
    tenant: str = DEFAULT_TENANT,
    progress: Callable[[float, str], None] | None = None,
) -> models.PairingPlan:
    """Score every company against every provider with the engine, optimise, store revision 1.

    `progress` is told each step (a job reports it to whoever polls it)."""
    report = progress or (lambda _fraction, _message: None)
    report(0.05, "checking the companies and providers")
    check_plan(session, data=data, settings=settings, tenant=tenant)
    report(0.1, f"scoring {len(data.company_ids)} companies against {len(data.provider_ids)} providers")
    scores = _score_matrix(
        session, matcher=matcher, company_ids=data.company_ids, provider_ids=data.provider_ids, settings=settings
    )
    capacity = {p: data.capacities.get(p, data.default_capacity or 0) for p in data.provider_ids}
    plan = models.PairingPlan(
        tenant=tenant,
        name=data.name,
        fairness=data.fairness,
        # A pair below the nothing-fits threshold is no match, so it is not proposed for a demo either.
        min_score=settings.match_threshold if data.min_score is None else data.min_score,
        max_per_company=data.max_per_company,
        rounds=data.rounds,
        company_ids=list(data.company_ids),
        provider_ids=list(data.provider_ids),
        capacity={str(p): n for p, n in capacity.items()},
        tables={str(p): n for p, n in data.tables.items()},
        scores=[
            [scores.companies[i], scores.providers[j], round(float(scores.values[i, j]), 6)]
            for i, j in zip(*np.nonzero(scores.values), strict=True)
        ],
        revision=1,
    )
    must = [(p.company_id, p.provider_id) for p in data.must_pairs]
    problem = _problem(plan, scores=scores, must=must, never=[(p.company_id, p.provider_id) for p in data.never_pairs])
    report(0.5, f"optimising the day (at most {TIME_LIMIT_SECONDS:g} s)")
    result = _solve(lambda: pairing.plan_demo_day(problem, time_limit=TIME_LIMIT_SECONDS))
    report(0.9, "storing the plan")
    revision = _revision(
        1,
        result,
        author=data.author,
        note=None,
        locked=sorted(problem.must_pairs),
        removed=sorted(problem.never_pairs),
        added=sorted(result.solution.pairs),
        dropped=[],
    )
    plan.revisions.append(revision)
    return PairingRepository(session).add(plan)


def plan_job(session: Session, context: JobContext) -> dict[str, Any]:
    """A queued plan (`Prefer: respond-async`): solved and stored like a waited-for one."""
    data = PairingPlanCreate.model_validate(context.payload)
    plan = create_plan(
        session,
        matcher=context.matcher,
        data=data,
        settings=context.settings,
        tenant=context.tenant,
        progress=context.report,
    )
    return {"plan_id": plan.id}


def revise_plan(
    session: Session, *, plan_id: int, data: PairingRevisionCreate, tenant: str | None = None
) -> models.PairingPlan:
    """Lock and remove pairs, re-optimise the rest from the stored scores, append a revision."""
    plan = get_plan(session, plan_id=plan_id, tenant=tenant)
    previous = _engine_plan(plan)
    locks = [(p.company_id, p.provider_id) for p in data.lock]
    removals = [(p.company_id, p.provider_id) for p in data.remove]
    result = _solve(lambda: pairing.reoptimise(previous, locks=locks, removals=removals, time_limit=TIME_LIMIT_SECONDS))
    added, dropped = pairing.changes(previous, result)
    revision = _revision(
        plan.revision + 1,
        result,
        author=data.author,
        note=data.note,
        locked=sorted(set(locks)),
        removed=sorted(set(removals)),
        added=list(added),
        dropped=list(dropped),
    )
    PairingRepository(session).add_revision(plan, revision)
    return plan


def _solve(run: Callable[[], pairing.PairingPlan]) -> pairing.PairingPlan:
    """Runs the optimiser; a problem it cannot solve as asked (must-pairs that do not fit) is a 422."""
    try:
        return run()
    except pairing.PairingError as exc:
        raise ValidationProblem(str(exc)) from exc


def _revision(
    number: int,
    result: pairing.PairingPlan,
    *,
    author: str | None,
    note: str | None,
    locked: Sequence[tuple[int, int]],
    removed: Sequence[tuple[int, int]],
    added: Sequence[tuple[int, int]],
    dropped: Sequence[tuple[int, int]],
) -> models.PairingRevision:
    solution, schedule = result.solution, result.schedule
    slots = {(s.company, s.provider): s for s in schedule.slots}
    assignments = []
    for a in solution.assignments:
        slot = slots.get(a.pair)
        assignments.append(
            {
                "company_id": a.company,
                "provider_id": a.provider,
                "score": a.score,
                "locked": a.locked,
                "round": slot.round if slot else None,
                "table": slot.table if slot else None,
            }
        )
    return models.PairingRevision(
        number=number,
        created_at=datetime.now(UTC),
        author=author,
        note=note,
        locked=[list(p) for p in locked],
        removed=[list(p) for p in removed],
        must_pairs=[list(p) for p in sorted(result.problem.must_pairs)],
        never_pairs=[list(p) for p in sorted(result.problem.never_pairs)],
        added=[list(p) for p in added],
        dropped=[list(p) for p in dropped],
        assignments=assignments,
        unscheduled=[list(p) for p in schedule.unscheduled],
        rounds=schedule.rounds,
        total_score=solution.total_score,
        greedy_total_score=result.greedy_total_score,
        optimal=solution.optimal,
        bound=solution.bound,
        gap=solution.gap,
        covered_companies=solution.covered_companies,
        worst_best_score=solution.worst_best_score,
        seconds=round(solution.seconds, 4),
    )


def _engine_plan(plan: models.PairingPlan) -> pairing.PairingPlan:
    """The stored current revision as the engine's plan, for `reoptimise`."""
    revision = plan.current
    problem = _problem(plan, scores=_stored_scores(plan), must=revision.must_pairs, never=revision.never_pairs)
    assignments = tuple(
        pairing.Assignment(company=a["company_id"], provider=a["provider_id"], score=a["score"], locked=a["locked"])
        for a in revision.assignments
    )
    covered = {a.company for a in assignments}
    solution = pairing.PairingSolution(
        method="milp",
        fairness=problem.fairness,
        assignments=assignments,
        total_score=revision.total_score,
        covered_companies=revision.covered_companies,
        unassigned_companies=tuple(c for c in plan.company_ids if c not in covered),
        worst_best_score=revision.worst_best_score,
        optimal=revision.optimal,
        bound=revision.bound,
        gap=revision.gap,
        seconds=revision.seconds,
        variables=0,
        status="stored",
    )
    schedule = Schedule(
        rounds=revision.rounds,
        slots=tuple(
            Slot(company=a["company_id"], provider=a["provider_id"], round=a["round"], table=a["table"])
            for a in revision.assignments
            if a["round"] is not None
        ),
        unscheduled=tuple((int(c), int(p)) for c, p in revision.unscheduled),
    )
    return pairing.PairingPlan(
        problem=problem, solution=solution, schedule=schedule, greedy_total_score=revision.greedy_total_score
    )


# -- exports ---------------------------------------------------------------------------------

CSV_COLUMNS = (
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
)
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def export_csv(session: Session, plan: models.PairingPlan) -> str:
    """One row per demo, by round, provider and table; text cells cannot run as formulas."""
    names = _names(session, plan)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for a in _ordered(plan.current.assignments):
        provider_ref, provider_name = names.provider(a["provider_id"])
        company_ref, company_name = names.company(a["company_id"])
        row = (
            a["round"] if a["round"] is not None else "",
            a["table"] if a["table"] is not None else "",
            a["provider_id"],
            provider_ref or "",
            provider_name,
            a["company_id"],
            company_ref or "",
            company_name,
            f"{a['score']:.4f}",
            "yes" if a["locked"] else "no",
        )
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()


_PRINT_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #111; }
h1 { margin-bottom: 0.2rem; }
.meta { color: #555; margin-top: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(20rem, 1fr)); gap: 1rem; }
article { border: 1px solid #ccc; border-radius: 4px; padding: 0.5rem 0.8rem; }
article h3 { margin: 0.2rem 0 0.4rem; font-size: 1.05rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.15rem 0.4rem; border-bottom: 1px solid #eee; }
td.num, th.num { text-align: right; }
.none { color: #777; font-style: italic; }
.locked { font-weight: 600; }
@page { size: A4; margin: 14mm; }
@media print {
  body { margin: 0; font-size: 10pt; }
  .cards { display: block; }
  article { break-inside: avoid; page-break-inside: avoid; margin-bottom: 0.6rem; }
  section.companies { break-before: page; page-break-before: always; }
}
"""


def _label(ref: str | None, name: str) -> str:
    return f"{escape(name)} <small>({escape(ref)})</small>" if ref else escape(name)


def export_html(session: Session, plan: models.PairingPlan) -> str:
    """A printable page: per provider its SMEs by round, per SME its providers by round."""
    names = _names(session, plan)
    revision = plan.current
    by_provider: dict[int, list[Assigned]] = defaultdict(list)
    by_company: dict[int, list[Assigned]] = defaultdict(list)
    for a in _ordered(revision.assignments):
        by_provider[a["provider_id"]].append(a)
        by_company[a["company_id"]].append(a)

    def round_cell(a: Assigned) -> str:
        return str(a["round"]) if a["round"] is not None else "not scheduled"

    def card(title: str, other: str, rows: list[Assigned], describe: Callable[[Assigned], str]) -> str:
        if not rows:
            return f'<article><h3>{title}</h3><p class="none">no demonstrations</p></article>'
        body = "".join(
            f'<tr class="{"locked" if a["locked"] else ""}"><td class="num">{round_cell(a)}</td>'
            f'<td class="num">{a["table"] or ""}</td><td>{describe(a)}</td>'
            f'<td class="num">{a["score"]:.2f}</td></tr>'
            for a in rows
        )
        return (
            f"<article><h3>{title}</h3><table><thead><tr><th class=num>Round</th><th class=num>Table</th>"
            f"<th>{other}</th><th class=num>Score</th></tr></thead><tbody>{body}</tbody></table></article>"
        )

    providers = sorted(plan.provider_ids, key=lambda p: names.provider(p)[1].lower())
    companies = sorted(plan.company_ids, key=lambda c: names.company(c)[1].lower())
    provider_cards = "".join(
        card(_label(*names.provider(p)), "SME", by_provider[p], lambda a: _label(*names.company(a["company_id"])))
        for p in providers
    )
    company_cards = "".join(
        card(_label(*names.company(c)), "Provider", by_company[c], lambda a: _label(*names.provider(a["provider_id"])))
        for c in companies
    )
    title = escape(plan.name or f"Demo-day plan {plan.id}")
    totals = _totals(revision, plan)
    meta = (
        f"Revision {revision.number} of {revision.created_at:%Y-%m-%d %H:%M} UTC &middot; "
        f"{totals.pairs} demonstrations in {totals.rounds} round(s) &middot; "
        f"{totals.covered_companies} of {len(plan.company_ids)} SMEs with a demo &middot; locked pairs in bold"
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{_PRINT_CSS}</style></head><body>"
        f'<header><h1>{title}</h1><p class="meta">{meta}</p>'
        # Relative to .../export.html, so the page works wherever the API is mounted.
        '<p class="picture"><a href="heatmap.png">Heat map of scores and chosen pairs</a></p>'
        "</header>"
        f'<section class="providers"><h2>Technology providers</h2><div class="cards">{provider_cards}</div></section>'
        f'<section class="companies"><h2>SMEs</h2><div class="cards">{company_cards}</div></section>'
        "</body></html>"
    )


def heatmap(session: Session, plan: models.PairingPlan) -> bytes:
    names = _names(session, plan)
    result = _engine_plan(plan)
    return heatmap_png(
        result.problem.scores,
        assignments=result.solution.assignments,
        company_labels={c: _short(*names.company(c)) for c in plan.company_ids},
        provider_labels={p: _short(*names.provider(p)) for p in plan.provider_ids},
        title=f"{plan.name or f'Demo-day plan {plan.id}'} (revision {plan.revision})",
    )


def _short(ref: str | None, name: str) -> str:
    return ref or (name if len(name) <= 24 else name[:23] + "…")
