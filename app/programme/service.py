"""The programme's picture for facilitators and its report for funders, computed from needs, matches,
engagements (with their steps) and demo-day plans of one tenant, for a period of days (UTC).

Counts follow what happened in the period: needs and matches created in it, engagements created in it
(the funnel: how far each got since), steps taken in it (the report: demonstrations held, pilots,
adoptions). The numbers are the dashboard's; the pictures are drawn by `app/programme/plots.py`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy.orm import Session

from app.core.errors import ValidationProblem
from app.engagements.repository import EngagementRepository
from app.engagements.schemas import DECLINE_LABELS
from app.engagements.service import FUNNEL
from app.models import Engagement, EngagementEvent, EngagementStage, MatchStatus, utcnow
from app.programme.repository import NeedRow, ProgrammeRepository
from app.programme.schemas import (
    CompetencePlanRow,
    CountRow,
    DaysSummary,
    EngagementRow,
    FunnelStep,
    Period,
    ProgrammePicture,
    ProgrammeReport,
    ProviderLoad,
    WaitingSme,
)
from matching.language.wording import category_label, sector_label
from matching.matcher import Matcher
from matching.types import CATEGORIES

_ORDER = {stage: position for position, stage in enumerate(FUNNEL)}
_DEMONSTRATED = frozenset({EngagementStage.demonstrated, EngagementStage.pilot, EngagementStage.adopted})
_PILOT = frozenset({EngagementStage.pilot, EngagementStage.adopted})
_ADOPTED = frozenset({EngagementStage.adopted})


@dataclass(frozen=True, slots=True)
class Window:
    """A period of whole days, as datetimes: [since, until), either end open."""

    start: date | None
    end: date | None

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValidationProblem.field(("query", "from"), "the period starts after it ends")

    @property
    def since(self) -> datetime | None:
        return None if self.start is None else datetime.combine(self.start, time(), tzinfo=UTC)

    @property
    def until(self) -> datetime | None:
        return None if self.end is None else datetime.combine(self.end + timedelta(days=1), time(), tzinfo=UTC)

    def holds(self, moment: datetime) -> bool:
        since, until = self.since, self.until
        return (since is None or moment >= since) and (until is None or moment < until)

    def period(self) -> Period:
        return Period(start=self.start, end=self.end)

    def now(self) -> datetime:
        """The period's end, or now if it is open or still running."""
        until = self.until
        now = utcnow()
        return now if until is None or until > now else until


def _count_rows(counts: Counter[str], label: dict[str, str] | None = None) -> list[CountRow]:
    return [
        CountRow(key=key, label=(label or {}).get(key, key), count=count)
        for key, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def _funnel(
    repository: ProgrammeRepository, *, tenant: str, window: Window, engagements: Sequence[Engagement]
) -> list[FunnelStep]:
    """Each step's count and the share of the step before that reached it, always a share of a set that
    contains it: engagements also start at demo days and on request, without an approved match, so the
    approved -> introduced share counts only the approved matches an engagement started from."""
    matches = repository.match_counts(tenant=tenant, since=window.since, until=window.until)
    counts: list[tuple[str, int]] = [("proposed", sum(matches.values())), ("approved", matches[MatchStatus.approved])]
    for milestone in FUNNEL:
        counts.append((str(milestone), sum(1 for e in engagements if _ORDER[e.furthest_stage] >= _ORDER[milestone])))
    taken_up = repository.approved_taken_up(tenant=tenant, since=window.since, until=window.until)
    steps = []
    for position, (step, count) in enumerate(counts):
        previous = counts[position - 1][1] if position else 0
        reached = taken_up if step == str(FUNNEL[0]) else count
        steps.append(FunnelStep(stage=step, count=count, conversion=round(reached / previous, 4) if previous else None))
    return steps


def _first_reached(events: Iterable[EngagementEvent]) -> dict[int, dict[frozenset[EngagementStage], datetime]]:
    """Engagement id -> for each milestone (demonstrated, pilot, adopted), when it was first reached."""
    reached: dict[int, dict[frozenset[EngagementStage], datetime]] = defaultdict(dict)
    for event in events:  # oldest first
        if event.to_stage is None:
            continue
        stage = EngagementStage(event.to_stage)
        for milestone in (_DEMONSTRATED, _PILOT, _ADOPTED):
            if stage in milestone:
                reached[event.engagement_id].setdefault(milestone, event.at)
    return reached


def _days(values: Sequence[float], needs: int) -> DaysSummary:
    if not values:
        return DaysSummary(needs=0, median=None, mean=None, p90=None, min=None, max=None, days=[])
    array = np.array(sorted(values))
    return DaysSummary(
        needs=needs,
        median=round(float(np.median(array)), 2),
        mean=round(float(array.mean()), 2),
        p90=round(float(np.percentile(array, 90)), 2),
        min=round(float(array.min()), 2),
        max=round(float(array.max()), 2),
        days=[round(float(v), 2) for v in array],
    )


def _main_categories(matcher: Matcher, need_ids: Collection[int]) -> dict[int, str]:
    """Need id -> the category its vector is closest to (the engine's taxonomy; needs not indexed are left out)."""
    vectors = matcher.catalogue.need_vectors(need_ids)
    return {
        need_id: CATEGORIES[int(np.argmax(matcher.need_categories(vector)[0]))] for need_id, vector in vectors.items()
    }


def picture(
    session: Session, *, tenant: str, matcher: Matcher, start: date | None = None, end: date | None = None
) -> ProgrammePicture:
    """What the dashboard plots for the period: needs by category and sector, the funnel, SMEs waiting,
    time from need to first demonstration, the share of Danish needs, providers' load against their slots."""
    window = Window(start, end)
    repository = ProgrammeRepository(session)
    all_needs = repository.needs(tenant=tenant)
    needs = [n for n in all_needs if window.holds(n.created_at)]
    engagements = repository.engagements(tenant=tenant)
    in_period = [e for e in engagements if window.holds(e.created_at)]
    reached = _first_reached(repository.events(tenant=tenant))

    categories = Counter(_main_categories(matcher, [n.id for n in needs]).values())
    categories["unknown"] = len(needs) - sum(categories.values())
    sectors = Counter(n.sector or "unknown" for n in needs)
    danish = sum(1 for n in needs if n.lang == "da")
    declined = [e for e in in_period if e.stage is EngagementStage.declined]

    waiting, without_demo, with_needs = _waiting(
        repository, tenant=tenant, needs=all_needs, engagements=engagements, window=window, reached=reached
    )
    return ProgrammePicture(
        period=window.period(),
        needs=len(needs),
        danish_needs=danish,
        danish_share=round(danish / len(needs), 4) if needs else None,
        needs_by_category=_count_rows(
            +categories, {c: category_label(c) for c in CATEGORIES} | {"unknown": "not indexed"}
        ),
        needs_by_sector=_count_rows(sectors, {s: sector_label(s) for s in sectors if s != "unknown"}),
        funnel=_funnel(repository, tenant=tenant, window=window, engagements=in_period),
        declined=len(declined),
        declined_by_reason=_count_rows(
            Counter(e.end_reason or "unknown" for e in declined),
            {str(code): label for code, label in DECLINE_LABELS.items()},
        ),
        smes_with_needs=with_needs,
        smes_not_served=len(waiting),
        smes_without_demo=without_demo,
        waiting=waiting,
        time_to_first_demo=_time_to_demo(needs, engagements, reached),
        provider_load=_provider_load(repository, tenant=tenant, window=window, engagements=in_period),
    )


def _waiting(
    repository: ProgrammeRepository,
    *,
    tenant: str,
    needs: Sequence[NeedRow],
    engagements: Sequence[Engagement],
    window: Window,
    reached: dict[int, dict[frozenset[EngagementStage], datetime]],
) -> tuple[list[WaitingSme], int, int]:
    """SMEs with a need by the period's end and no engagement by then (longest waiting first), how many of
    the SMEs with needs have no demonstration by then, and how many SMEs have needs."""
    end = window.now()
    by_company: dict[int, list[NeedRow]] = defaultdict(list)
    for need in needs:
        if need.created_at < end:
            by_company[need.company_id].append(need)
    engaged = {e.company_id for e in engagements if e.created_at < end}
    demonstrated = {
        e.company_id for e in engagements if (at := reached.get(e.id, {}).get(_DEMONSTRATED)) is not None and at < end
    }
    companies = repository.companies(tenant=tenant)
    waiting = []
    for company_id, rows in by_company.items():
        if company_id in engaged:
            continue
        first = min(n.created_at for n in rows)
        company = companies.get(company_id)
        waiting.append(
            WaitingSme(
                company_id=company_id,
                company_name=company.name if company else f"company {company_id}",
                needs=len(rows),
                first_need_at=first,
                days_waiting=max(0, (end - first).days),
            )
        )
    waiting.sort(key=lambda w: (w.first_need_at, w.company_id))
    return waiting, len(set(by_company) - demonstrated), len(by_company)


def _time_to_demo(
    needs: Sequence[NeedRow],
    engagements: Sequence[Engagement],
    reached: dict[int, dict[frozenset[EngagementStage], datetime]],
) -> DaysSummary:
    """Days from each need's creation to the first demonstration of an engagement about it."""
    first_demo: dict[int, datetime] = {}
    for engagement in engagements:
        at = reached.get(engagement.id, {}).get(_DEMONSTRATED)
        if engagement.need_id is not None and at is not None:
            known = first_demo.get(engagement.need_id)
            first_demo[engagement.need_id] = at if known is None else min(known, at)
    days = [max(0.0, (first_demo[n.id] - n.created_at).total_seconds() / 86400) for n in needs if n.id in first_demo]
    return _days(days, len(days))


def _provider_load(
    repository: ProgrammeRepository, *, tenant: str, window: Window, engagements: Sequence[Engagement]
) -> list[ProviderLoad]:
    slots: Counter[int] = Counter()
    demos: Counter[int] = Counter()
    for plan in repository.plans(tenant=tenant):
        if not window.holds(plan.created_at):
            continue
        for provider, count in plan.capacity.items():
            slots[int(provider)] += int(count)
        for item in plan.current.assignments:
            demos[int(item["provider_id"])] += 1
    total = Counter(e.provider_id for e in engagements)
    open_ = Counter(
        e.provider_id for e in engagements if e.stage not in (EngagementStage.adopted, EngagementStage.declined)
    )
    ids = set(slots) | set(demos) | set(total)
    names = repository.providers(ids)
    rows = [
        ProviderLoad(
            provider_id=p,
            provider_name=names[p].name if p in names else f"provider {p}",
            slots=slots[p],
            demos=demos[p],
            load=round(demos[p] / slots[p], 4) if slots[p] else None,
            open_engagements=open_[p],
            engagements=total[p],
        )
        for p in ids
    ]
    return sorted(rows, key=lambda r: (-(r.load or 0.0), -r.engagements, r.provider_name))


# -- the report for funders ----------------------------------------------------------------------


def report(session: Session, *, tenant: str, start: date | None = None, end: date | None = None) -> ProgrammeReport:
    """The period's results: SMEs engaged, demonstrations held, pilots, adoptions, competence plans, demo days."""
    window = Window(start, end)
    repository = ProgrammeRepository(session)
    engagements = {e.id: e for e in repository.engagements(tenant=tenant)}
    events = repository.events(tenant=tenant)
    reached = _first_reached(events)
    touched_ids = {e.engagement_id for e in events if window.holds(e.at)}
    touched = [engagements[i] for i in sorted(touched_ids) if i in engagements]

    def first_in_period(milestone: frozenset[EngagementStage]) -> int:
        return sum(1 for marks in reached.values() if milestone in marks and window.holds(marks[milestone]))

    declined = {e.engagement_id for e in events if window.holds(e.at) and e.to_stage == EngagementStage.declined}
    plans = [p for p in repository.plans(tenant=tenant) if window.holds(p.created_at)]
    companies = repository.companies(tenant=tenant)
    providers = repository.providers({e.provider_id for e in touched})
    technologies = _titles(session, {e.technology_id for e in touched if e.technology_id is not None})
    with_plan = [e for e in touched if e.training]
    items = [item for e in with_plan for item in e.training]
    in_period_created = [e for e in engagements.values() if window.holds(e.created_at)]

    def name(mapping: Mapping[int, object], ident: int, kind: str) -> str:
        row = mapping.get(ident)
        return str(getattr(row, "name", None) or f"{kind} {ident}")

    return ProgrammeReport(
        period=window.period(),
        generated_at=utcnow(),
        smes_engaged=len({e.company_id for e in touched}),
        demonstrations_held=first_in_period(_DEMONSTRATED),
        pilots=first_in_period(_PILOT),
        adoptions=first_in_period(_ADOPTED),
        declined=len(declined),
        competence_plans=len(with_plan),
        training_planned=sum(1 for item in items if item.get("status") in ("planned", "done")),
        training_done=sum(1 for item in items if item.get("status") == "done"),
        demo_days=len(plans),
        demo_day_pairs=sum(len(p.current.assignments) for p in plans),
        funnel=_funnel(repository, tenant=tenant, window=window, engagements=in_period_created),
        engagements=[
            EngagementRow(
                id=e.id,
                company=name(companies, e.company_id, "company"),
                provider=name(providers, e.provider_id, "provider"),
                technology=technologies.get(e.technology_id) if e.technology_id is not None else None,
                origin=e.origin,
                stage=str(e.stage),
                furthest_stage=str(e.furthest_stage),
                end_reason=e.end_reason,
                created_at=e.created_at,
                stage_changed_at=e.stage_changed_at,
                training_items=len(e.training),
                training_done=sum(1 for item in e.training if item.get("status") == "done"),
            )
            for e in touched
        ],
        competences=[
            CompetencePlanRow(
                engagement_id=e.id,
                company=name(companies, e.company_id, "company"),
                provider=name(providers, e.provider_id, "provider"),
                technology=technologies.get(e.technology_id) if e.technology_id is not None else None,
                competence=str(item.get("competence", "")),
                status=str(item.get("status", "needed")),
                planned_on=date.fromisoformat(item["planned_on"]) if item.get("planned_on") else None,
            )
            for e in with_plan
            for item in e.training
        ],
    )


def _titles(session: Session, ids: set[int]) -> dict[int, str]:
    return {ident: row.title for ident, row in EngagementRepository(session).technologies(ids).items()}
