"""Needs that visitors of a cluster's website sent through its widget, waiting for a curator."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import DEFAULT_TENANT, Base, utcnow
from app.models.catalogue import Need


class SubmissionStatus(enum.StrEnum):
    pending = "pending"  # a curator has not looked at it yet
    reviewed = "reviewed"


class WidgetSubmission(Base):
    """Who sent a need through the widget and how to reach them; the need itself is an ordinary need."""

    __tablename__ = "widget_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True, default=DEFAULT_TENANT)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(32))
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(320))
    origin: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[SubmissionStatus] = mapped_column(
        Enum(SubmissionStatus, native_enum=False, length=16, validate_strings=True), default=SubmissionStatus.pending
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    need: Mapped[Need] = relationship(lazy="joined", innerjoin=True)
