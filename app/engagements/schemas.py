"""Request and response bodies of engagements: the board, a move, an update, the history."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.core.schemas import Input, LongText
from app.models import EngagementStage
from app.web.i18n import N_

Note = Annotated[str, Field(min_length=1, max_length=2000)]


class DeclineReason(enum.StrEnum):
    """Why an engagement was declined. The first three are about the fit of the offering to the need and
    teach the ranking (LEARNING_DECLINES); the others say nothing about the fit."""

    not_relevant = "not_relevant"
    technology_not_ready = "technology_not_ready"
    too_expensive = "too_expensive"
    competence_gap = "competence_gap"
    no_capacity = "no_capacity"
    chose_other = "chose_other"
    provider_unavailable = "provider_unavailable"
    other = "other"


class AdoptReason(enum.StrEnum):
    solved = "solved"
    partly_solved = "partly_solved"


# A match's and an engagement's stages as words as the staff's pages and the dashboard's funnel
# show them (English message ids, N_; in English each is its code).
STAGE_WORDS = {
    "proposed": N_("proposed"),
    "approved": N_("approved"),
    "introduced": N_("introduced"),
    "met": N_("met"),
    "demonstrated": N_("demonstrated"),
    "pilot": N_("pilot"),
    "adopted": N_("adopted"),
    "declined": N_("declined"),
}

# English message ids (N_): the API says them as they are, the facilitator's pages translate them where shown.
DECLINE_LABELS: dict[DeclineReason, str] = {
    DeclineReason.not_relevant: N_("The offering does not solve the need"),
    DeclineReason.technology_not_ready: N_("The technology is not mature enough"),
    DeclineReason.too_expensive: N_("Too expensive for the SME"),
    DeclineReason.competence_gap: N_("The SME lacks the skills to use it"),
    DeclineReason.no_capacity: N_("The SME has no time or people for it now"),
    DeclineReason.chose_other: N_("The SME chose another solution"),
    DeclineReason.provider_unavailable: N_("The provider could not deliver"),
    DeclineReason.other: N_("Other (explain)"),
}

# Declines that say the offering did not fit the need: strong negative signals for learning.
LEARNING_DECLINES: frozenset[str] = frozenset(
    {DeclineReason.not_relevant, DeclineReason.technology_not_ready, DeclineReason.too_expensive}
)


class TrainingStatus(enum.StrEnum):
    needed = "needed"
    planned = "planned"
    done = "done"


class TrainingItem(Input):
    """One competence the SME's people need for the offering, and where its training stands."""

    competence: Annotated[str, Field(min_length=1, max_length=120)]
    status: TrainingStatus = TrainingStatus.needed
    planned_on: date | None = Field(None, description="when the training is (or was) planned")
    note: Annotated[str, Field(max_length=500)] | None = None


class TrainingItemRead(BaseModel):
    competence: str
    status: TrainingStatus
    planned_on: date | None
    note: str | None


class EngagementFromMatch(Input):
    """Introduce the SME of an approved match to the offering's provider."""

    match_id: int
    note: Note | None = None
    next_action_on: date | None = None


class PlanEngagementsCreate(Input):
    """One engagement per pair of a plan's current revision."""

    stage: Literal["introduced", "demonstrated"] = Field(
        "introduced", description="introduced before the day; demonstrated once the day has been held"
    )
    note: Note | None = None


class EngagementMove(Input):
    stage: EngagementStage
    expected_version: int = Field(description="the version the board showed; a stale one is a 409")
    reason_code: str | None = Field(
        None,
        description="declined: one of DeclineReason (required); adopted: solved or partly_solved (optional)",
    )
    note: Note | None = Field(None, description="required to reopen an ended engagement and for reason 'other'")
    next_action_on: date | None = None


class EngagementUpdate(Input):
    """Notes, the next action's date and the competence plan; fields left out stay as they are."""

    expected_version: int
    notes: LongText | None = Field(None, max_length=10_000)
    next_action_on: date | None = None
    training: list[TrainingItem] | None = Field(None, max_length=50)


class EngagementRead(BaseModel):
    id: int
    company_id: int
    company_name: str
    provider_id: int
    provider_name: str
    technology_id: int | None
    technology_title: str | None
    need_id: int | None
    need_title: str | None
    match_id: int | None
    plan_id: int | None
    origin: str = Field(description="match (an approved match introduced) or demo_day (a pair of a plan)")
    stage: EngagementStage
    furthest_stage: EngagementStage = Field(description="the furthest of introduced .. adopted ever reached")
    open: bool = Field(description="false once adopted or declined")
    stage_changed_at: datetime
    end_reason: str | None
    end_note: str | None
    notes: str
    next_action_on: date | None
    overdue: bool = Field(description="open, and its next action's date has passed")
    training: list[TrainingItemRead]
    competence_gap: list[str] = Field(
        description="the offering's competences the company does not list among its skills, as of now"
    )
    version: int
    created_at: datetime
    updated_at: datetime


class EngagementEventRead(BaseModel):
    id: int
    engagement_id: int
    actor: str
    actor_kind: str
    action: str = Field(description="created, moved or updated")
    from_stage: str | None
    to_stage: str | None
    reason_code: str | None
    note: str | None
    changes: dict[str, list[object]] = Field(description="field -> [before, after], for updates")
    at: datetime


class EngagementDetail(EngagementRead):
    history: list[EngagementEventRead]


class BoardColumn(BaseModel):
    stage: EngagementStage
    count: int
    items: list[EngagementRead] = Field(description="the column's engagements, at most `per_column`, oldest move first")


class EngagementBoard(BaseModel):
    columns: list[BoardColumn]
    total: int


class PlanEngagementsResult(BaseModel):
    plan_id: int
    revision: int
    created: list[EngagementRead]
    existing: list[int] = Field(description="ids of engagements the plan's pairs already had")
