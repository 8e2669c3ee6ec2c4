"""Demo-day pairing use cases: plan from match scores, revise by hand with history, compare revisions.

The exports (CSV, XLSX, the printable page, the heat map) are in `app/pairing/exports.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
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
    MovedPair,
    PairingAssignmentRead,
    PairingComparison,
    PairingHistory,
    PairingPlanCreate,
    PairingPlanRead,
    PairingPlanSummary,
    PairingRevisionCreate,
    PairingRevisionDetail,
    PairingRevisionRead,
    PairingTotals,
    PairRead,
    TotalsChange,
)
from app.web.i18n import N_, as_written
from matching.matcher import Matcher
from matching.pairing import optimiser as pairing
from matching.pairing.schedule import Schedule, Slot

# One stored pair: company_id, provider_id, score, locked, round, table, and (plans made since they are
# kept) need_id and technology_id, the need and offering its score comes from.
Assigned = dict[str, Any]

# A plan is solved inside a request: past this, the best plan found so far is stored, not proven optimal.
TIME_LIMIT_SECONDS = 30.0


# -- reading ---------------------------------------------------------------------------------


def get_plan(session: Session, *, plan_id: int, tenant: str | None = None) -> models.PairingPlan:
    """The plan; another tenant's is a 404 like a missing one."""
    plan = PairingRepository(session).get(plan_id)
    if plan is None or (tenant is not None and plan.tenant != tenant):
        raise NotFound.saying(N_("no pairing plan with id %(id)s"), id=plan_id)
    return plan


def list_plans(
    session: Session, *, limit: int, offset: int, tenant: str | None = None
) -> tuple[list[models.PairingPlan], int]:
    return PairingRepository(session).page(limit=limit, offset=offset, tenant=tenant)


@dataclass(frozen=True, slots=True)
class Names:
    """Display names and refs of a plan's companies, providers, needs and offerings (deleted ones stay visible)."""

    companies: dict[int, models.Company]
    providers: dict[int, models.Provider]
    technologies: dict[int, models.Technology]
    needs: dict[int, models.Need]

    def company(self, ident: int) -> tuple[str | None, str]:
        row = self.companies.get(ident)
        return (row.ref, row.name) if row is not None else (None, f"company {ident} (deleted)")

    def provider(self, ident: int) -> tuple[str | None, str]:
        row = self.providers.get(ident)
        return (row.ref, row.name) if row is not None else (None, f"provider {ident} (deleted)")

    def technology(self, ident: int | None) -> str | None:
        if ident is None:
            return None
        row = self.technologies.get(ident)
        return row.title if row is not None else f"technology {ident} (deleted)"

    def need(self, ident: int | None) -> str | None:
        if ident is None:
            return None
        row = self.needs.get(ident)
        return row.title if row is not None else f"need {ident} (deleted)"

    def technology_ref(self, ident: int | None) -> str | None:
        row = self.technologies.get(ident) if ident is not None else None
        return row.ref if row is not None else None

    def need_ref(self, ident: int | None) -> str | None:
        row = self.needs.get(ident) if ident is not None else None
        return row.ref if row is not None else None


def names(session: Session, plan: models.PairingPlan) -> Names:
    repository = PairingRepository(session)
    assigned = [a for revision in plan.revisions for a in revision.assignments]
    return Names(
        repository.companies(plan.company_ids),
        repository.providers(plan.provider_ids),
        repository.technologies({a["technology_id"] for a in assigned if a.get("technology_id") is not None}),
        repository.needs({a["need_id"] for a in assigned if a.get("need_id") is not None}),
    )


def _pairs(values: Iterable[Sequence[int]]) -> list[PairRead]:
    return [PairRead(company_id=c, provider_id=p) for c, p in values]


FAIRNESS_WORDS = {
    "none": N_("the most useful demonstrations in total"),
    "coverage": N_("as many SMEs as possible with a demo first, then the most useful demonstrations"),
    "maximin": N_(
        "as many SMEs as possible with a demo, the worst-off SME's best demo as good as possible, "
        "then the most useful demonstrations"
    ),
}


def totals_summary(
    totals: PairingTotals, *, fairness: str, companies: int, say: Callable[[str], str] = as_written
) -> str:
    """The totals in plain words, so that a greedy total above the plan's reads as what it is.

    `say` translates each message (the API's summary is English; a page passes its language's gettext)."""
    proof = say(N_("proven optimal") if totals.optimal else N_("the best plan found in time, not proven optimal"))
    text = say(
        N_(
            "%(expected)s useful demonstrations expected from %(pairs)s demos; %(covered)s of %(companies)s SMEs "
            "get a demo. Aim: %(aim)s (%(proof)s). For comparison, greedy (best pairs first, ignoring fairness): "
            "%(greedy)s"
        )
    ) % {
        "expected": f"{totals.expected_useful_demonstrations:.1f}",
        "pairs": totals.pairs,
        "covered": totals.covered_companies,
        "companies": companies,
        "aim": say(FAIRNESS_WORDS[fairness]),
        "proof": proof,
        "greedy": f"{totals.greedy_total_score:.1f}",
    }
    if totals.greedy_covered_companies is not None:
        text += say(N_(" with %(count)s SMEs given a demo")) % {"count": totals.greedy_covered_companies}
        left_out = totals.covered_companies - totals.greedy_covered_companies
        if totals.greedy_total_score > totals.total_score + 1e-9 and left_out > 0:
            leaves = (
                N_(
                    "; its higher total leaves %(count)s more SME without a demo, which this plan's fairness does "
                    "not allow"
                )
                if left_out == 1
                else N_(
                    "; its higher total leaves %(count)s more SMEs without a demo, which this plan's fairness does not "
                    "allow"
                )
            )
            text += say(leaves) % {"count": left_out}
    return text + "."


def totals(revision: models.PairingRevision, plan: models.PairingPlan) -> PairingTotals:
    figures = PairingTotals(
        total_score=revision.total_score,
        expected_useful_demonstrations=round(revision.total_score, 2),
        greedy_total_score=revision.greedy_total_score,
        greedy_covered_companies=revision.greedy_covered_companies,
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
    figures.summary = totals_summary(figures, fairness=plan.fairness, companies=len(plan.company_ids))
    return figures


def assignment_read(item: Assigned, names: Names) -> PairingAssignmentRead:
    company_ref, company_name = names.company(item["company_id"])
    provider_ref, provider_name = names.provider(item["provider_id"])
    return PairingAssignmentRead(
        company_id=item["company_id"],
        company_ref=company_ref,
        company_name=company_name,
        provider_id=item["provider_id"],
        provider_ref=provider_ref,
        provider_name=provider_name,
        technology_id=item.get("technology_id"),
        technology_ref=names.technology_ref(item.get("technology_id")),
        technology_title=names.technology(item.get("technology_id")),
        need_id=item.get("need_id"),
        need_ref=names.need_ref(item.get("need_id")),
        need_title=names.need(item.get("need_id")),
        score=item["score"],
        locked=item["locked"],
        round=item["round"],
        table=item["table"],
    )


def plan_read(session: Session, plan: models.PairingPlan) -> PairingPlanRead:
    revision = plan.current
    found = names(session, plan)
    assignments = [assignment_read(item, found) for item in ordered(revision.assignments)]
    covered = {item["company_id"] for item in revision.assignments}
    return PairingPlanRead(
        id=plan.id,
        name=plan.name,
        event_date=plan.event_date,
        slot_minutes=plan.slot_minutes,
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
        totals=totals(revision, plan),
        assignments=assignments,
        unscheduled=_pairs(revision.unscheduled),
        unassigned_company_ids=[c for c in plan.company_ids if c not in covered],
    )


def plan_summary(plan: models.PairingPlan) -> PairingPlanSummary:
    return PairingPlanSummary(
        id=plan.id,
        name=plan.name,
        event_date=plan.event_date,
        fairness=plan.fairness,
        revision=plan.revision,
        companies=len(plan.company_ids),
        providers=len(plan.provider_ids),
        created_at=plan.created_at,
        updated_at=plan.updated_at,
        totals=totals(plan.current, plan),
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
                totals=totals(r, plan),
            )
            for r in plan.revisions
        ],
    )


def revision_of(plan: models.PairingPlan, number: int) -> models.PairingRevision:
    for revision in plan.revisions:
        if revision.number == number:
            return revision
    raise NotFound.saying(N_("pairing plan %(id)s has no revision %(number)s"), id=plan.id, number=number)


def revision_detail(session: Session, plan: models.PairingPlan, *, number: int) -> PairingRevisionDetail:
    revision = revision_of(plan, number)
    found = names(session, plan)
    return PairingRevisionDetail(
        plan_id=plan.id,
        number=revision.number,
        created_at=revision.created_at,
        author=revision.author,
        note=revision.note,
        locked=_pairs(revision.locked),
        removed=_pairs(revision.removed),
        added=_pairs(revision.added),
        dropped=_pairs(revision.dropped),
        totals=totals(revision, plan),
        assignments=[assignment_read(item, found) for item in ordered(revision.assignments)],
        unscheduled_pairs=_pairs(revision.unscheduled),
    )


_COMPARED = ("total_score", "pairs", "covered_companies", "worst_best_score", "rounds", "unscheduled")


def compare(
    session: Session, plan: models.PairingPlan, *, from_number: int | None = None, to_number: int | None = None
) -> PairingComparison:
    """What changed from one revision to another: pairs added, removed and moved (another round or table),
    and the totals before and after. By default the current revision against the one before it."""
    to_number = plan.revision if to_number is None else to_number
    from_number = max(1, to_number - 1) if from_number is None else from_number
    before, after = revision_of(plan, from_number), revision_of(plan, to_number)
    found = names(session, plan)
    old = {(a["company_id"], a["provider_id"]): a for a in before.assignments}
    new = {(a["company_id"], a["provider_id"]): a for a in after.assignments}
    moved = [
        MovedPair(
            company_id=pair[0],
            provider_id=pair[1],
            round_before=old[pair]["round"],
            table_before=old[pair]["table"],
            round_after=new[pair]["round"],
            table_after=new[pair]["table"],
        )
        for pair in sorted(old.keys() & new.keys())
        if (old[pair]["round"], old[pair]["table"]) != (new[pair]["round"], new[pair]["table"])
    ]
    totals_before, totals_after = totals(before, plan), totals(after, plan)
    changes = {}
    for name in _COMPARED:
        first, last = getattr(totals_before, name), getattr(totals_after, name)
        change = None if first is None or last is None else round(last - first, 6)
        changes[name] = TotalsChange(before=first, after=last, change=change)
    return PairingComparison(
        plan_id=plan.id,
        from_revision=from_number,
        to_revision=to_number,
        added=[assignment_read(new[p], found) for p in sorted(new.keys() - old.keys())],
        removed=[assignment_read(old[p], found) for p in sorted(old.keys() - new.keys())],
        moved=moved,
        unchanged=len(old.keys() & new.keys()) - len(moved),
        totals=changes,
        totals_before=totals_before,
        totals_after=totals_after,
    )


def ordered(assignments: Iterable[Assigned]) -> list[Assigned]:
    """Scheduled pairs by round, provider and table; unscheduled ones last."""
    return sorted(
        assignments,
        key=lambda a: (a["round"] is None, a["round"] or 0, a["provider_id"], a["table"] or 0, a["company_id"]),
    )


# -- planning --------------------------------------------------------------------------------


def _score_matrix(
    session: Session, *, matcher: Matcher, company_ids: Sequence[int], provider_ids: Sequence[int]
) -> pairing.ScoreMatrix:
    """Every company's needs scored against the providers' technologies only (never the whole catalogue)."""
    repository = PairingRepository(session)
    needs = [need_record(row) for row in repository.needs_of(company_ids)]
    technologies = [technology_record(row) for row in repository.technologies_of(provider_ids)]
    return pairing.company_provider_scores(
        matcher, needs=needs, technologies=technologies, companies=company_ids, providers=provider_ids
    )


def _stored_scores(plan: models.PairingPlan) -> pairing.ScoreMatrix:
    row = {c: i for i, c in enumerate(plan.company_ids)}
    col = {p: j for j, p in enumerate(plan.provider_ids)}
    values = np.zeros((len(row), len(col)))
    best = {}
    for company, provider, score, *source in plan.scores:
        values[row[int(company)], col[int(provider)]] = score
        if len(source) == 2:
            best[(int(company), int(provider))] = pairing.BestPair(need_id=int(source[0]), technology_id=int(source[1]))
    return pairing.ScoreMatrix(
        companies=tuple(plan.company_ids), providers=tuple(plan.provider_ids), values=values, best=best
    )


def _stored_score_rows(scores: pairing.ScoreMatrix) -> list[list[float]]:
    """Non-zero scores as [company, provider, score, need, technology] (the last two where known)."""
    rows = []
    for i, j in zip(*np.nonzero(scores.values), strict=True):
        pair = (scores.companies[i], scores.providers[j])
        source = scores.best.get(pair)
        rows.append(
            [*pair, round(float(scores.values[i, j]), 6)]
            + ([source.need_id, source.technology_id] if source is not None else [])
        )
    return rows


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

    `progress` is told each step (a job reports it to whoever polls it), in words without values, so that a page
    can say them in its language (the time limit and the sizes are on the page already)."""
    report = progress or (lambda _fraction, _message: None)
    report(0.05, N_("checking the companies and providers"))
    check_plan(session, data=data, settings=settings, tenant=tenant)
    report(0.1, N_("scoring every SME against every provider"))
    scores = _score_matrix(session, matcher=matcher, company_ids=data.company_ids, provider_ids=data.provider_ids)
    capacity = {p: data.capacities.get(p, data.default_capacity or 0) for p in data.provider_ids}
    plan = models.PairingPlan(
        tenant=tenant,
        name=data.name,
        event_date=data.event_date,
        slot_minutes=data.slot_minutes,
        fairness=data.fairness,
        # A pair below the nothing-fits threshold is no match, so it is not proposed for a demo either.
        min_score=settings.match_threshold if data.min_score is None else data.min_score,
        max_per_company=data.max_per_company,
        rounds=data.rounds,
        company_ids=list(data.company_ids),
        provider_ids=list(data.provider_ids),
        capacity={str(p): n for p, n in capacity.items()},
        tables={str(p): n for p, n in data.tables.items()},
        scores=_stored_score_rows(scores),
        revision=1,
    )
    must = [(p.company_id, p.provider_id) for p in data.must_pairs]
    problem = _problem(plan, scores=scores, must=must, never=[(p.company_id, p.provider_id) for p in data.never_pairs])
    report(0.5, N_("optimising the day"))
    result = _solve(lambda: pairing.plan_demo_day(problem, time_limit=TIME_LIMIT_SECONDS))
    report(0.9, N_("storing the plan"))
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


def revise_job(session: Session, context: JobContext) -> dict[str, Any]:
    """A queued revision (the demo-day pages): re-optimised and stored like a waited-for one."""
    data = PairingRevisionCreate.model_validate(context.payload["revision"])
    context.report(0.5, N_("re-optimising the day"))
    plan = revise_plan(session, plan_id=int(context.payload["plan_id"]), data=data, tenant=context.tenant)
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
    best = result.problem.scores.best
    assignments = []
    for a in solution.assignments:
        slot = slots.get(a.pair)
        source = best.get(a.pair)
        assignments.append(
            {
                "company_id": a.company,
                "provider_id": a.provider,
                "score": a.score,
                "locked": a.locked,
                "round": slot.round if slot else None,
                "table": slot.table if slot else None,
                "need_id": source.need_id if source else None,
                "technology_id": source.technology_id if source else None,
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
        greedy_covered_companies=result.greedy_covered_companies,
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
        problem=problem,
        solution=solution,
        schedule=schedule,
        greedy_total_score=revision.greedy_total_score,
        greedy_covered_companies=revision.greedy_covered_companies or 0,
    )


def engine_plan(plan: models.PairingPlan) -> pairing.PairingPlan:
    """The plan's current revision as the engine's plan (for the heat map)."""
    return _engine_plan(plan)
