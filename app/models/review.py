"""Curator decisions and the SME's and provider's answers: the append-only review history of matches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class ReviewDecision(Base):
    """One curator decision on a match (append-only audit trail): who, when, what, before and after.

    No foreign key to the match: recomputing a need's proposals replaces proposed matches, and the
    history of a match must outlive it. The pair (need, technology) is kept for the same reason.
    """

    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True, default="default")
    match_id: Mapped[int] = mapped_column(index=True)
    need_id: Mapped[int] = mapped_column(index=True)
    technology_id: Mapped[int] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(300))
    actor_kind: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))
    reason_code: Mapped[str | None] = mapped_column(String(40))
    reason_text: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict[str, Any]]
    after: Mapped[dict[str, Any]]
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class MatchFeedback(Base):
    """An SME's or a provider's answer to a released match (append-only): the SME asked for an introduction
    or found it not relevant; the provider is interested or finds it not for them.

    Kept apart from ReviewDecision, whose action is a curator's (the review API types it so); like it, no
    foreign key, so the answer outlives a recomputed match. The newest answer of a party speaks for it.
    """

    __tablename__ = "match_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True, default="default")
    match_id: Mapped[int] = mapped_column(index=True)
    need_id: Mapped[int] = mapped_column(index=True)
    technology_id: Mapped[int] = mapped_column(index=True)
    # "sme" or "provider".
    party: Mapped[str] = mapped_column(String(20))
    # sme: "introduction" | "not_relevant"; provider: "interested" | "not_for_us".
    verdict: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
