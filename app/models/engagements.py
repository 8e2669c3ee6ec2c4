"""Engagements: the follow-up of an introduction or demonstration, from introduced to adopted or declined."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Enum,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import DEFAULT_TENANT, Base, Timestamped, utcnow


class EngagementStage(enum.StrEnum):
    """Where an SME and a provider stand; the last two end the engagement."""

    introduced = "introduced"
    met = "met"
    demonstrated = "demonstrated"
    pilot = "pilot"
    adopted = "adopted"
    declined = "declined"


def _stage_column() -> Any:
    # A VARCHAR with a CHECK rather than a native enum, as for match status.
    return Enum(EngagementStage, native_enum=False, length=20, validate_strings=True)


class Engagement(Timestamped, Base):
    """One SME and one provider's offering after an introduction (an approved match) or a demo-day pair.

    Ids are not foreign keys, as in a pairing plan: an engagement stays readable after a profile is
    deleted; erasing a company (privacy) deletes its engagements explicitly. `version` is bumped by
    every change, so a move made on a stale board is refused. `furthest_stage` is the furthest of
    introduced .. adopted ever reached, for the funnel (a declined engagement keeps where it got to).
    """

    __tablename__ = "engagements"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True, default=DEFAULT_TENANT)
    company_id: Mapped[int] = mapped_column(index=True)
    provider_id: Mapped[int] = mapped_column(index=True)
    technology_id: Mapped[int | None] = mapped_column(index=True)
    need_id: Mapped[int | None] = mapped_column(index=True)
    match_id: Mapped[int | None]
    plan_id: Mapped[int | None] = mapped_column(index=True)
    # "match" (an approved match introduced) or "demo_day" (a pair of a plan).
    origin: Mapped[str] = mapped_column(String(20))
    stage: Mapped[EngagementStage] = mapped_column(_stage_column(), index=True)
    furthest_stage: Mapped[EngagementStage] = mapped_column(_stage_column())
    stage_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Why it ended (adopted or declined): a reason code and the facilitator's words.
    end_reason: Mapped[str | None] = mapped_column(String(40))
    end_note: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str] = mapped_column(Text, default="")
    next_action_on: Mapped[date | None] = mapped_column(Date)
    # Competence plan: [{"competence", "status": needed | planned | done, "planned_on", "note"}].
    training: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(default=0)


class EngagementEvent(Base):
    """One step of an engagement (append-only history, like review decisions): who, when, what changed.

    No foreign key to the engagement, so the history is never cascaded away; erasure of a company is
    the one sanctioned removal (a bulk delete).
    """

    __tablename__ = "engagement_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True, default=DEFAULT_TENANT)
    engagement_id: Mapped[int] = mapped_column(index=True)
    company_id: Mapped[int] = mapped_column(index=True)
    provider_id: Mapped[int]
    actor: Mapped[str] = mapped_column(String(300))
    # facilitator (staff key or page), sme, provider: who reported the step.
    actor_kind: Mapped[str] = mapped_column(String(20))
    # created | moved | updated
    action: Mapped[str] = mapped_column(String(20))
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str | None] = mapped_column(String(20))
    reason_code: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    # The fields an update changed: {"field": [before, after]}.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
