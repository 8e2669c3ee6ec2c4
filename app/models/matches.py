"""Stored matches of a need and a technology, with their review status."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Enum,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, Timestamped
from app.models.catalogue import Technology


class MatchStatus(enum.StrEnum):
    proposed = "proposed"
    approved = "approved"
    rejected = "rejected"


class Match(Timestamped, Base):
    __tablename__ = "matches"
    __table_args__ = (UniqueConstraint("need_id", "technology_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    technology_id: Mapped[int] = mapped_column(ForeignKey("technologies.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)
    components: Mapped[dict[str, Any]]
    explanation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A VARCHAR with a CHECK rather than a native enum: adding a status later needs no type change.
    status: Mapped[MatchStatus] = mapped_column(
        Enum(MatchStatus, native_enum=False, length=20, validate_strings=True),
        default=MatchStatus.proposed,
    )
    # Review state: bumped by every curator decision, so a decision taken on a stale page is refused.
    review_version: Mapped[int] = mapped_column(default=0, server_default="0")
    explanation_edited: Mapped[bool] = mapped_column(default=False, server_default="0")
    reviewed_by: Mapped[str | None] = mapped_column(String(300))
    reviewed_at: Mapped[datetime | None]

    technology: Mapped[Technology] = relationship(lazy="joined", innerjoin=True)
