"""Engagements API for facilitators: the board, moves with an expected version, updates, history, creation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.core.auth import Principal, ProgrammeDep
from app.core.deps import PageDep, SessionDep
from app.core.schemas import Page
from app.engagements import service as engagements
from app.engagements.repository import EngagementFilters, EngagementScope
from app.engagements.schemas import (
    EngagementBoard,
    EngagementDetail,
    EngagementEventRead,
    EngagementFromMatch,
    EngagementMove,
    EngagementRead,
    EngagementUpdate,
    PlanEngagementsCreate,
    PlanEngagementsResult,
)
from app.models import EngagementStage, utcnow
from app.pairing import service as pairing

router = APIRouter(tags=["engagements"])


def _actor(principal: Principal) -> engagements.Actor:
    return engagements.staff(name=principal.name, tenant=principal.tenant)


def _scope(principal: Principal) -> EngagementScope:
    return EngagementScope(tenant=principal.tenant)


def _filters(
    stage: EngagementStage | None = None,
    company_id: int | None = None,
    provider_id: int | None = None,
    technology_id: int | None = None,
    plan_id: int | None = None,
    origin: Annotated[str | None, Query(pattern="^(match|demo_day)$")] = None,
    category: Annotated[str | None, Query(max_length=100, description="a category of the offering")] = None,
    overdue: Annotated[bool, Query(description="open ones whose next action's date has passed")] = False,
    open_only: Annotated[bool, Query(alias="open", description="leave out adopted and declined ones")] = False,
) -> EngagementFilters:
    return EngagementFilters(
        stage=stage,
        company_id=company_id,
        provider_id=provider_id,
        technology_id=technology_id,
        plan_id=plan_id,
        origin=origin,
        category=category,
        overdue_on=utcnow().date() if overdue else None,
        open_only=open_only,
    )


@router.get("/engagements")
def list_engagements(
    principal: ProgrammeDep,
    session: SessionDep,
    page: PageDep,
    stage: EngagementStage | None = None,
    company_id: int | None = None,
    provider_id: int | None = None,
    technology_id: int | None = None,
    plan_id: int | None = None,
    origin: Annotated[str | None, Query(pattern="^(match|demo_day)$")] = None,
    category: Annotated[str | None, Query(max_length=100, description="a category of the offering")] = None,
    overdue: Annotated[bool, Query(description="open ones whose next action's date has passed")] = False,
    open_only: Annotated[bool, Query(alias="open", description="leave out adopted and declined ones")] = False,
) -> Page[EngagementRead]:
    """Engagements, filtered and paged, by id."""
    filters = _filters(stage, company_id, provider_id, technology_id, plan_id, origin, category, overdue, open_only)
    items, total = engagements.page(
        session, scope=_scope(principal), filters=filters, limit=page.limit, offset=page.offset
    )
    return Page[EngagementRead](items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/engagements/board")
def board(
    principal: ProgrammeDep,
    session: SessionDep,
    company_id: int | None = None,
    provider_id: int | None = None,
    technology_id: int | None = None,
    plan_id: int | None = None,
    origin: Annotated[str | None, Query(pattern="^(match|demo_day)$")] = None,
    category: Annotated[str | None, Query(max_length=100, description="a category of the offering")] = None,
    overdue: Annotated[bool, Query(description="open ones whose next action's date has passed")] = False,
    per_column: Annotated[int, Query(ge=1, le=200)] = 50,
) -> EngagementBoard:
    """The board: a column per stage with its count and its engagements, longest at their stage first."""
    filters = _filters(None, company_id, provider_id, technology_id, plan_id, origin, category, overdue, False)
    return engagements.board(session, scope=_scope(principal), filters=filters, per_column=per_column)


@router.post("/engagements", status_code=status.HTTP_201_CREATED)
def introduce(
    principal: ProgrammeDep, body: EngagementFromMatch, request: Request, response: Response, session: SessionDep
) -> EngagementRead:
    """Introduce the SME of an approved match to the offering's provider: a new engagement, stage introduced."""
    engagement = engagements.introduce_match(session, actor=_actor(principal), data=body)
    response.headers["Location"] = request.app.url_path_for("get_engagement", engagement_id=engagement.id)
    return engagements.read(session, engagement)


@router.get("/engagements/{engagement_id}")
def get_engagement(principal: ProgrammeDep, engagement_id: int, session: SessionDep) -> EngagementDetail:
    """The engagement with its whole history, oldest step first."""
    return engagements.detail(session, scope=_scope(principal), engagement_id=engagement_id)


@router.get("/engagements/{engagement_id}/history")
def history(principal: ProgrammeDep, engagement_id: int, session: SessionDep) -> list[EngagementEventRead]:
    engagement = engagements.get_engagement(session, scope=_scope(principal), engagement_id=engagement_id)
    return [
        EngagementEventRead.model_validate(e, from_attributes=True) for e in engagements.history_of(session, engagement)
    ]


@router.post("/engagements/{engagement_id}/moves")
def move(principal: ProgrammeDep, engagement_id: int, body: EngagementMove, session: SessionDep) -> EngagementRead:
    """Move to another stage; `expected_version` must be the version shown (409 otherwise). Declining needs a
    reason code; reopening an ended engagement needs a note."""
    engagement = engagements.move(session, actor=_actor(principal), engagement_id=engagement_id, data=body)
    return engagements.read(session, engagement)


@router.patch("/engagements/{engagement_id}")
def update(principal: ProgrammeDep, engagement_id: int, body: EngagementUpdate, session: SessionDep) -> EngagementRead:
    """Notes, the next action's date and the competence plan (training), with an expected version."""
    engagement = engagements.update(session, actor=_actor(principal), engagement_id=engagement_id, data=body)
    return engagements.read(session, engagement)


@router.post("/pairing-plans/{plan_id}/engagements", status_code=status.HTTP_201_CREATED)
def from_plan(
    principal: ProgrammeDep, plan_id: int, body: PlanEngagementsCreate, session: SessionDep
) -> PlanEngagementsResult:
    """One engagement per pair of the plan's current revision; pairs that already have one are listed as existing."""
    plan = pairing.get_plan(session, plan_id=plan_id, tenant=principal.tenant)
    return engagements.from_plan(session, actor=_actor(principal), plan=plan, data=body)
