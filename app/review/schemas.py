"""Request and response bodies of the review API (/api/v1/review)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.core.schemas import Input
from app.matches.schemas import ComponentsRead, ExplanationRead
from app.models import Match, MatchStatus, Need, ReviewDecision
from app.review.service import MAX_BULK, MAX_REASON_CHARS, MAX_SUMMARY_CHARS, Action, ReasonCode


class DecisionCreate(Input):
    action: Action
    reason_code: ReasonCode | None = Field(None, description="required for reject")
    reason_text: Annotated[str, Field(max_length=MAX_REASON_CHARS)] | None = Field(
        None, description="free text; required with reason_code 'other'"
    )
    summary: Annotated[str, Field(max_length=MAX_SUMMARY_CHARS)] | None = Field(
        None, description="the edited explanation, for approve_edited"
    )
    expected_version: int | None = Field(
        None, ge=0, description="review_version the decision was taken on; 409 if the match changed since"
    )


class BulkDecisionCreate(Input):
    match_ids: Annotated[list[int], Field(min_length=1, max_length=MAX_BULK)]
    action: Literal[Action.approve, Action.reject]
    reason_code: ReasonCode | None = None
    reason_text: Annotated[str, Field(max_length=MAX_REASON_CHARS)] | None = None


class MatchState(BaseModel):
    """The reviewable state of a match before or after a decision (every field is recorded by each
    decision; None only where a row written by hand lacks it)."""

    status: MatchStatus | None = None
    summary: str | None = None
    explanation_edited: bool | None = None
    review_version: int | None = None
    score: float | None = None


class DecisionRead(BaseModel):
    id: int
    match_id: int
    need_id: int
    technology_id: int
    actor: str
    actor_kind: str
    action: Action
    reason_code: ReasonCode | None
    reason_text: str | None
    before: MatchState
    after: MatchState
    at: datetime
    need_title: str | None = Field(None, description="the need's title (None when it was deleted since)")
    technology_title: str | None = Field(None, description="the technology's title (None when it was deleted)")

    @classmethod
    def of(
        cls, row: ReviewDecision, *, need_title: str | None = None, technology_title: str | None = None
    ) -> DecisionRead:
        return cls(
            id=row.id,
            match_id=row.match_id,
            need_id=row.need_id,
            technology_id=row.technology_id,
            actor=row.actor,
            actor_kind=row.actor_kind,
            action=Action(row.action),
            reason_code=None if row.reason_code is None else ReasonCode(row.reason_code),
            reason_text=row.reason_text,
            before=MatchState.model_validate(row.before),
            after=MatchState.model_validate(row.after),
            at=row.at,
            need_title=need_title,
            technology_title=technology_title,
        )


class BulkOutcomeRead(BaseModel):
    match_id: int
    done: bool
    detail: str


class BulkDecisionResult(BaseModel):
    done: int
    skipped: int
    items: list[BulkOutcomeRead]


def constraint_warnings(match: Match) -> list[str]:
    """The details of the constraints a match's offering breaks, from its stored explanation."""
    verdicts = (match.explanation or {}).get("constraints") or []
    return [str(v.get("detail", "")) for v in verdicts if isinstance(v, dict) and not v.get("satisfied", True)]


class ReviewItemRead(BaseModel):
    """A match as the queue lists it."""

    match_id: int
    need_id: int
    need_title: str
    company_id: int
    company_name: str
    technology_id: int
    technology_title: str
    provider_id: int
    provider_name: str
    categories: list[str]
    rank: int
    score: float
    status: MatchStatus
    summary: str | None
    warnings: list[str] = Field(
        default_factory=list, description="the constraints the offering breaks, as the explanation words them"
    )
    explanation_edited: bool
    review_version: int
    reviewed_by: str | None
    reviewed_at: datetime | None

    @classmethod
    def of(cls, match: Match, need: Need) -> ReviewItemRead:
        technology = match.technology
        return cls(
            match_id=match.id,
            need_id=need.id,
            need_title=need.title,
            company_id=need.company_id,
            company_name=need.company.name,
            technology_id=technology.id,
            technology_title=technology.title,
            provider_id=technology.provider_id,
            provider_name=technology.provider.name,
            categories=list(technology.categories),
            rank=match.rank,
            score=match.score,
            status=match.status,
            summary=(match.explanation or {}).get("summary"),
            warnings=constraint_warnings(match),
            explanation_edited=match.explanation_edited,
            review_version=match.review_version,
            reviewed_by=match.reviewed_by,
            reviewed_at=match.reviewed_at,
        )


class ReviewMatchRead(ReviewItemRead):
    """One match with everything a curator checks, and its decision history."""

    need_description: str
    technology_description: str
    components: ComponentsRead
    explanation: ExplanationRead | None
    history: list[DecisionRead]
