"""Review API: the curators' queue, a match with its history, decisions (single and bulk)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from app.catalogue.repository import NeedRepository
from app.core.auth import Principal, ReviewDep
from app.core.deps import PageDep, SessionDep
from app.core.paging import CursorDep, encode_cursor
from app.core.schemas import Page
from app.matches.schemas import ComponentsRead, ExplanationRead
from app.models import MatchStatus, Need
from app.review import service as review
from app.review.repository import QueueFilters, QueueSort
from app.review.schemas import (
    BulkDecisionCreate,
    BulkDecisionResult,
    BulkOutcomeRead,
    DecisionCreate,
    DecisionRead,
    ReviewItemRead,
    ReviewMatchRead,
)

router = APIRouter(prefix="/review", tags=["review"])


def _actor(principal: Principal) -> review.Actor:
    return review.Actor(name=principal.name, kind=principal.kind, tenant=principal.tenant)


@router.get("/queue")
def queue(
    principal: ReviewDep,
    session: SessionDep,
    page: PageDep,
    status_: Annotated[Literal["proposed", "approved", "rejected", "all"], Query(alias="status")] = "proposed",
    company_id: int | None = None,
    provider_id: int | None = None,
    need_id: int | None = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
    min_score: Annotated[float | None, Query(ge=-10, le=10)] = None,
    max_score: Annotated[float | None, Query(ge=-10, le=10)] = None,
    sort: QueueSort = QueueSort.score_desc,
) -> Page[ReviewItemRead]:
    """Matches to review (default: proposed ones, best score first), filtered, sorted and paged."""
    filters = QueueFilters(
        status=None if status_ == "all" else MatchStatus(status_),
        company_id=company_id,
        provider_id=provider_id,
        need_id=need_id,
        category=category,
        min_score=min_score,
        max_score=max_score,
    )
    rows, total = review.queue(
        session, tenant=principal.tenant, filters=filters, sort=sort, limit=page.limit, offset=page.offset
    )
    needs = NeedRepository(session).by_ids({row.need_id for row in rows})
    return Page[ReviewItemRead](
        items=[ReviewItemRead.of(row, needs[row.need_id]) for row in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/matches/{match_id}")
def get_match(match_id: int, principal: ReviewDep, session: SessionDep) -> ReviewMatchRead:
    """A match, both texts, its explanation and every decision taken on it."""
    match = review.get_match(session, tenant=principal.tenant, match_id=match_id)
    need = session.get(Need, match.need_id)
    assert need is not None
    item = ReviewItemRead.of(match, need)
    return ReviewMatchRead(
        **item.model_dump(),
        need_description=need.description,
        technology_description=match.technology.description,
        components=ComponentsRead.model_validate(match.components),
        explanation=None if match.explanation is None else ExplanationRead.model_validate(match.explanation),
        history=[DecisionRead.of(d) for d in review.history(session, tenant=principal.tenant, match_id=match.id)],
    )


@router.get("/matches/{match_id}/history")
def match_history(match_id: int, principal: ReviewDep, session: SessionDep) -> list[DecisionRead]:
    """The match's audit trail, oldest first."""
    return [DecisionRead.of(d) for d in review.history(session, tenant=principal.tenant, match_id=match_id)]


@router.post(
    "/matches/{match_id}/decisions",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "the match changed since `expected_version`, or the action does not apply to it"}},
)
def decide(match_id: int, body: DecisionCreate, principal: ReviewDep, session: SessionDep) -> DecisionRead:
    """Approve, approve with an edited explanation, reject with a reason, or reopen; 409 on a stale version."""
    decision = review.decide(
        session,
        actor=_actor(principal),
        match_id=match_id,
        request=review.DecisionRequest(
            action=body.action,
            reason_code=body.reason_code,
            reason_text=body.reason_text,
            summary=body.summary,
            expected_version=body.expected_version,
        ),
    )
    return DecisionRead.of(decision)


@router.post("/decisions/bulk")
def decide_many(body: BulkDecisionCreate, principal: ReviewDep, session: SessionDep) -> BulkDecisionResult:
    """One decision (approve or reject) for many matches; matches already in that state are skipped."""
    outcomes = review.decide_many(
        session,
        actor=_actor(principal),
        match_ids=body.match_ids,
        request=review.DecisionRequest(action=body.action, reason_code=body.reason_code, reason_text=body.reason_text),
    )
    items = [BulkOutcomeRead(match_id=o.match_id, done=o.done, detail=o.detail) for o in outcomes]
    done = sum(o.done for o in outcomes)
    return BulkDecisionResult(done=done, skipped=len(items) - done, items=items)


@router.get("/decisions")
def recent_decisions(principal: ReviewDep, session: SessionDep, page: CursorDep) -> Page[DecisionRead]:
    """The tenant's decisions, newest first (the audit log); `next_cursor` continues with older ones."""
    named, total = review.recent_decisions(
        session, tenant=principal.tenant, limit=page.fetch, offset=page.offset, before=page.after
    )
    more = len(named) > page.limit
    named = named[: page.limit]
    return Page[DecisionRead](
        items=[
            DecisionRead.of(n.decision, need_title=n.need_title, technology_title=n.technology_title) for n in named
        ],
        total=total,
        limit=page.limit,
        offset=page.offset,
        next_cursor=encode_cursor(named[-1].decision.id) if more and named else None,
    )
