"""Engagements: every introduction or demonstration followed to adoption or decline, with an append-only history.

An engagement is made from an approved match that a facilitator introduces, or from a pair of a
demonstration-day plan. Facilitators move it on a board (introduced, met, demonstrated, pilot, then
adopted or declined); SMEs and providers may report their own step once their workspace exists, through
the same functions with a scope of their company or provider. Every change checks the version the
caller saw (a stale one is a 409) and appends an event; events are never changed or deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.core.errors import Conflict, NotFound, ValidationProblem
from app.engagements.repository import ENDED, EngagementFilters, EngagementRepository, EngagementScope
from app.engagements.schemas import (
    AdoptReason,
    BoardColumn,
    DeclineReason,
    EngagementBoard,
    EngagementDetail,
    EngagementEventRead,
    EngagementFromMatch,
    EngagementMove,
    EngagementRead,
    EngagementUpdate,
    PlanEngagementsCreate,
    PlanEngagementsResult,
    TrainingItem,
    TrainingItemRead,
    TrainingStatus,
)
from app.models import Engagement, EngagementEvent, EngagementStage, MatchStatus, PairingPlan, Person, Role, utcnow
from app.web.i18n import N_, Said
from matching.ranking.competences import competence_gap

logger = logging.getLogger(__name__)

ActorKind = Literal["facilitator", "sme", "provider"]

# The open stages in order; adopted follows pilot; declined may follow any of them.
OPEN_STAGES: tuple[EngagementStage, ...] = (
    EngagementStage.introduced,
    EngagementStage.met,
    EngagementStage.demonstrated,
    EngagementStage.pilot,
)
# The funnel: how far an engagement got (declined is not a step of it).
FUNNEL: tuple[EngagementStage, ...] = (*OPEN_STAGES, EngagementStage.adopted)
_ORDER = {stage: position for position, stage in enumerate(FUNNEL)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """Who changes an engagement: a facilitator (a staff key or page), or an SME's or provider's member."""

    name: str
    kind: ActorKind
    scope: EngagementScope


def staff(*, name: str, tenant: str) -> Actor:
    return Actor(name=name, kind="facilitator", scope=EngagementScope(tenant=tenant))


def member(person: Person) -> Actor:
    """An SME's or a provider's member, who sees and reports steps of its own company's or provider's
    engagements only."""
    if person.role is Role.sme and person.company_id is not None:
        return Actor(
            name=person.username,
            kind="sme",
            scope=EngagementScope(tenant=person.tenant, company_id=person.company_id),
        )
    if person.role is Role.provider and person.provider_id is not None:
        return Actor(
            name=person.username,
            kind="provider",
            scope=EngagementScope(tenant=person.tenant, provider_id=person.provider_id),
        )
    raise Conflict("only an SME's or a provider's member reports its own steps")


def of_member(session: Session, actor: Actor) -> list[EngagementRead]:
    """The member's engagements, open ones first, then the newest."""
    return reads(session, EngagementRepository(session).open_first(actor.scope, limit=200))


# What a member may report next from each open stage: a step forward, or that it ended.
def next_steps(stage: EngagementStage) -> list[EngagementStage]:
    if stage in ENDED:
        return []
    ahead = [s for s in FUNNEL if _ORDER[s] > _ORDER[stage]]
    return [*ahead, EngagementStage.declined]


# -- reading -----------------------------------------------------------------------------------


def get_engagement(session: Session, *, scope: EngagementScope, engagement_id: int) -> Engagement:
    """The engagement, if the scope admits it; one it does not is a 404 like a missing one."""
    engagement = EngagementRepository(session).get(engagement_id)
    if engagement is None or not scope.admits(engagement):
        raise NotFound.saying(N_("no engagement %(id)s"), id=engagement_id)
    return engagement


class _Context:
    """Names and texts of the rows a set of engagements points at, read in one query per kind."""

    def __init__(self, session: Session, engagements: Sequence[Engagement]) -> None:
        repository = EngagementRepository(session)
        self.companies = repository.companies({e.company_id for e in engagements})
        self.providers = repository.providers({e.provider_id for e in engagements})
        self.technologies = repository.technologies({e.technology_id for e in engagements if e.technology_id})
        self.needs = repository.needs({e.need_id for e in engagements if e.need_id})

    def read(self, engagement: Engagement, *, today: date) -> EngagementRead:
        company = self.companies.get(engagement.company_id)
        provider = self.providers.get(engagement.provider_id)
        technology = self.technologies.get(engagement.technology_id) if engagement.technology_id else None
        need = self.needs.get(engagement.need_id) if engagement.need_id else None
        is_open = engagement.stage not in ENDED
        return EngagementRead(
            id=engagement.id,
            company_id=engagement.company_id,
            company_name=company.name if company else f"company {engagement.company_id} (deleted)",
            provider_id=engagement.provider_id,
            provider_name=provider.name if provider else f"provider {engagement.provider_id} (deleted)",
            technology_id=engagement.technology_id,
            technology_title=technology.title if technology else None,
            need_id=engagement.need_id,
            need_title=need.title if need else None,
            match_id=engagement.match_id,
            plan_id=engagement.plan_id,
            origin=engagement.origin,
            stage=engagement.stage,
            furthest_stage=engagement.furthest_stage,
            open=is_open,
            stage_changed_at=engagement.stage_changed_at,
            end_reason=engagement.end_reason,
            end_note=engagement.end_note,
            notes=engagement.notes,
            next_action_on=engagement.next_action_on,
            overdue=is_open and engagement.next_action_on is not None and engagement.next_action_on < today,
            training=[TrainingItemRead.model_validate(item) for item in engagement.training],
            competence_gap=list(
                competence_gap(technology.competences or (), company.skills or ()) if technology and company else ()
            ),
            version=engagement.version,
            created_at=engagement.created_at,
            updated_at=engagement.updated_at,
        )


def reads(session: Session, engagements: Sequence[Engagement], *, today: date | None = None) -> list[EngagementRead]:
    context = _Context(session, engagements)
    today = today or utcnow().date()
    return [context.read(e, today=today) for e in engagements]


def read(session: Session, engagement: Engagement) -> EngagementRead:
    return reads(session, [engagement])[0]


def detail(session: Session, *, scope: EngagementScope, engagement_id: int) -> EngagementDetail:
    engagement = get_engagement(session, scope=scope, engagement_id=engagement_id)
    history = [EngagementEventRead.model_validate(e, from_attributes=True) for e in history_of(session, engagement)]
    return EngagementDetail(**read(session, engagement).model_dump(), history=history)


def history_of(session: Session, engagement: Engagement) -> list[EngagementEvent]:
    return EngagementRepository(session).history(engagement.id)


def page(
    session: Session, *, scope: EngagementScope, filters: EngagementFilters, limit: int, offset: int
) -> tuple[list[EngagementRead], int]:
    rows, total = EngagementRepository(session).page(scope, filters, limit=limit, offset=offset)
    return reads(session, rows), total


def board(session: Session, *, scope: EngagementScope, filters: EngagementFilters, per_column: int) -> EngagementBoard:
    """One column per stage with its count and its first `per_column` engagements (longest at their stage first)."""
    repository = EngagementRepository(session)
    if filters.stage is not None:
        raise ValidationProblem.field(("query", "stage"), "the board has a column for every stage; filter without it")
    counts = repository.counts_by_stage(scope, filters)
    columns = []
    for stage in EngagementStage:
        wanted = EngagementFilters(**{**_as_dict(filters), "stage": stage})
        rows = repository.column(scope, wanted, limit=per_column) if counts[stage] else []
        columns.append(BoardColumn(stage=stage, count=counts[stage], items=reads(session, rows)))
    return EngagementBoard(columns=columns, total=sum(counts.values()))


def _as_dict(filters: EngagementFilters) -> dict[str, Any]:
    return {name: getattr(filters, name) for name in filters.__slots__}


# -- creating ----------------------------------------------------------------------------------


def _training_for(session: Session, *, company_id: int, technology_id: int | None) -> list[dict[str, Any]]:
    """The competence plan an engagement starts with: one item per competence the company lacks."""
    if technology_id is None:
        return []
    repository = EngagementRepository(session)
    technology = repository.technologies([technology_id]).get(technology_id)
    company = repository.companies([company_id]).get(company_id)
    if technology is None or company is None:
        return []
    gap = competence_gap(technology.competences or (), company.skills or ())
    return [_training_json(TrainingItem(competence=c, status=TrainingStatus.needed)) for c in gap]


def _training_json(item: TrainingItem) -> dict[str, Any]:
    return item.model_dump(mode="json")


def _new(
    session: Session,
    *,
    actor: Actor,
    stage: EngagementStage,
    note: str | None,
    values: dict[str, Any],
) -> Engagement:
    repository = EngagementRepository(session)
    engagement = repository.add(
        Engagement(
            tenant=actor.scope.tenant,
            stage=stage,
            furthest_stage=stage,
            stage_changed_at=utcnow(),
            notes=note or "",
            training=_training_for(session, company_id=values["company_id"], technology_id=values.get("technology_id")),
            version=0,
            **values,
        )
    )
    _record(session, actor=actor, engagement=engagement, action="created", to_stage=stage, note=note)
    return engagement


def introduce_match(session: Session, *, actor: Actor, data: EngagementFromMatch) -> Engagement:
    """An engagement for an approved match: the SME is introduced to the offering's provider.

    A facilitator introduces any match of the tenant; an SME's member asks for the introduction of its
    own company's match (the SME pages)."""
    if actor.kind == "provider":
        raise Conflict("only a facilitator or the SME may introduce a match")
    repository = EngagementRepository(session)
    match = repository.match(data.match_id, tenant=actor.scope.tenant)
    need = repository.needs([match.need_id]).get(match.need_id) if match is not None else None
    if match is None or need is None or (actor.kind == "sme" and need.company_id != actor.scope.company_id):
        raise NotFound(f"no match {data.match_id}")
    if match.status is not MatchStatus.approved:
        raise Conflict.saying(
            N_("match %(id)s is %(status)s; only an approved match is introduced"),
            id=match.id,
            status=Said(match.status),
        )
    existing = repository.of_technology(
        tenant=actor.scope.tenant, company_id=need.company_id, technology_id=match.technology_id
    )
    if existing is not None and existing.stage not in ENDED:
        raise Conflict.saying(
            N_("company %(company)s is already engaged with this offering: engagement %(engagement)s"),
            company=need.company_id,
            engagement=existing.id,
        )
    return _new(
        session,
        actor=actor,
        stage=EngagementStage.introduced,
        note=data.note,
        values={
            "company_id": need.company_id,
            "provider_id": match.technology.provider_id,
            "technology_id": match.technology_id,
            "need_id": match.need_id,
            "match_id": match.id,
            "origin": "match",
            "next_action_on": data.next_action_on,
        },
    )


def from_plan(
    session: Session, *, actor: Actor, plan: PairingPlan, data: PlanEngagementsCreate
) -> PlanEngagementsResult:
    """One engagement per pair of the plan's current revision; pairs that already have one keep it."""
    _staff_only(actor, "create engagements from a plan")
    if plan.tenant != actor.scope.tenant:
        raise NotFound.saying(N_("no pairing plan with id %(id)s"), id=plan.id)
    repository = EngagementRepository(session)
    existing = repository.of_pairs(tenant=plan.tenant, plan_id=plan.id)
    stage = EngagementStage(data.stage)
    created: list[Engagement] = []
    for item in sorted(plan.current.assignments, key=lambda a: (a["company_id"], a["provider_id"])):
        pair = (item["company_id"], item["provider_id"])
        if pair in existing:
            continue
        created.append(
            _new(
                session,
                actor=actor,
                stage=stage,
                note=data.note,
                values={
                    "company_id": pair[0],
                    "provider_id": pair[1],
                    "technology_id": item.get("technology_id"),
                    "need_id": item.get("need_id"),
                    "plan_id": plan.id,
                    "origin": "demo_day",
                },
            )
        )
    logger.info("plan %d: %d engagements created, %d existed", plan.id, len(created), len(existing))
    return PlanEngagementsResult(
        plan_id=plan.id,
        revision=plan.revision,
        created=reads(session, created),
        existing=sorted(e.id for e in existing.values()),
    )


# -- moving and updating -----------------------------------------------------------------------


def _staff_only(actor: Actor, what: str) -> None:
    if actor.kind != "facilitator":
        raise Conflict(f"only a facilitator may {what}")


def _reason(move: EngagementMove) -> str | None:
    """The move's reason code, checked against the stage it moves to."""
    code = move.reason_code
    if move.stage is EngagementStage.declined:
        if code is None:
            raise ValidationProblem.field(("reason_code",), "a decline needs a reason code")
        if code not in DeclineReason.__members__:
            raise ValidationProblem.field(
                ("reason_code",), f"unknown decline reason; use one of: {', '.join(DeclineReason)}"
            )
        if code == DeclineReason.other and move.note is None:
            raise ValidationProblem.field(("note",), "reason 'other' needs a note")
        return code
    if move.stage is EngagementStage.adopted:
        if code is not None and code not in AdoptReason.__members__:
            raise ValidationProblem.field(("reason_code",), f"an adoption's reason is one of: {', '.join(AdoptReason)}")
        return code
    if code is not None:
        raise ValidationProblem.field(("reason_code",), "only adopting or declining takes a reason")
    return None


def _refusal(engagement: Engagement, *, actor: Actor, stage: EngagementStage, note: str | None) -> Said | None:
    """Why the actor may not move the engagement to `stage`, or None."""
    current = engagement.stage
    if stage is current:
        return Said(N_("the engagement is already %(stage)s"), {"stage": Said(stage)})
    if current in ENDED:
        if actor.kind != "facilitator":
            return Said(
                N_("the engagement has ended (%(stage)s); a facilitator may reopen it"), {"stage": Said(current)}
            )
        if note is None:
            return Said(
                N_("reopening an engagement that ended (%(stage)s) needs a note saying why"), {"stage": Said(current)}
            )
        return None
    if actor.kind != "facilitator" and stage in OPEN_STAGES and _ORDER[stage] < _ORDER[current]:
        return Said(
            N_("an SME or provider reports steps forward; a facilitator may move it back to %(stage)s"),
            {"stage": Said(stage)},
        )
    return None


def move(session: Session, *, actor: Actor, engagement_id: int, data: EngagementMove) -> Engagement:
    """Moves the engagement to another stage (a 409 on a stale version or a move the actor may not make)."""
    engagement = get_engagement(session, scope=actor.scope, engagement_id=engagement_id)
    reason = _reason(data)
    _check_version(engagement, data.expected_version)
    refusal = _refusal(engagement, actor=actor, stage=data.stage, note=data.note)
    if refusal is not None:
        raise Conflict.saying(N_("engagement %(id)s: %(refusal)s"), id=engagement.id, refusal=refusal)
    before = engagement.stage
    furthest = engagement.furthest_stage
    if data.stage in _ORDER and _ORDER[data.stage] > _ORDER[furthest]:
        furthest = data.stage
    values: dict[str, Any] = {
        "stage": data.stage,
        "furthest_stage": furthest,
        "stage_changed_at": utcnow(),
        "updated_at": utcnow(),
        "end_reason": reason if data.stage in ENDED else None,
        "end_note": data.note if data.stage in ENDED else None,
    }
    if data.next_action_on is not None:
        values["next_action_on"] = data.next_action_on
    _write(session, engagement, version=data.expected_version, values=values)
    _record(
        session,
        actor=actor,
        engagement=engagement,
        action="moved",
        from_stage=before,
        to_stage=data.stage,
        reason_code=reason,
        note=data.note,
    )
    logger.info("engagement %d: %s -> %s by %s %s", engagement.id, before, data.stage, actor.kind, actor.name)
    return engagement


def update(session: Session, *, actor: Actor, engagement_id: int, data: EngagementUpdate) -> Engagement:
    """Changes notes, the next action's date or the competence plan; the history keeps before and after."""
    engagement = get_engagement(session, scope=actor.scope, engagement_id=engagement_id)
    _check_version(engagement, data.expected_version)
    given = data.model_dump(exclude_unset=True, exclude={"expected_version"})
    if "training" in given and data.training is not None:
        given["training"] = [_training_json(item) for item in data.training]
    if "notes" in given and given["notes"] is None:
        given["notes"] = ""
    changes = {name: [_plain(getattr(engagement, name)), _plain(value)] for name, value in given.items()}
    changes = {name: pair for name, pair in changes.items() if pair[0] != pair[1]}
    if not changes:
        return engagement
    _write(session, engagement, version=data.expected_version, values={**given, "updated_at": utcnow()})
    _record(session, actor=actor, engagement=engagement, action="updated", changes=changes)
    return engagement


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _check_version(engagement: Engagement, expected: int) -> None:
    if expected != engagement.version:
        raise Conflict.saying(
            N_(
                "engagement %(id)s changed since it was shown (version %(shown)s, now %(now)s); reload it and try again"
            ),
            id=engagement.id,
            shown=expected,
            now=engagement.version,
        )


def _write(session: Session, engagement: Engagement, *, version: int, values: dict[str, Any]) -> None:
    if not EngagementRepository(session).compare_and_set(engagement, version=version, values=values):
        raise Conflict.saying(
            N_("engagement %(id)s was changed by someone else meanwhile; reload it and try again"), id=engagement.id
        )


def _record(
    session: Session,
    *,
    actor: Actor,
    engagement: Engagement,
    action: str,
    from_stage: EngagementStage | None = None,
    to_stage: EngagementStage | None = None,
    reason_code: str | None = None,
    note: str | None = None,
    changes: dict[str, list[Any]] | None = None,
) -> EngagementEvent:
    return EngagementRepository(session).add_event(
        EngagementEvent(
            tenant=engagement.tenant,
            engagement_id=engagement.id,
            company_id=engagement.company_id,
            provider_id=engagement.provider_id,
            actor=actor.name,
            actor_kind=actor.kind,
            action=action,
            from_stage=None if from_stage is None else str(from_stage),
            to_stage=None if to_stage is None else str(to_stage),
            reason_code=reason_code,
            note=note,
            changes=changes or {},
            at=utcnow(),
        )
    )


# The history is append-only: the ORM refuses to change or delete an event.
@event.listens_for(EngagementEvent, "before_update")
@event.listens_for(EngagementEvent, "before_delete")
def _append_only(_mapper: object, _connection: object, target: EngagementEvent) -> None:
    raise PermissionError(f"engagement event {target.id} is append-only")
