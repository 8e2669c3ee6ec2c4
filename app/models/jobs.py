"""Long jobs (plan solving, learning) queued in a table and claimed by any serving process."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import DEFAULT_TENANT, Base, utcnow


class JobStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class Job(Base):
    """One long job: what to do (`kind`, `payload`), who may see it (`tenant`), how far it got, what came out.

    A worker claims a queued job (or a running one whose worker stopped sending heartbeats) and records
    its progress in short transactions of its own; the result commits with the job's own writes.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_claimable", "status", "heartbeat_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    tenant: Mapped[str] = mapped_column(String(64), index=True, default=DEFAULT_TENANT)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[JobStatus] = mapped_column(
        Enum(JobStatus, native_enum=False, length=20, validate_strings=True), default=JobStatus.queued
    )
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(String(500), default="")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # A problem document (status, title, detail) when the job failed.
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    claimed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    # Refreshed while the job runs; a running job without one for a lease is claimed again.
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
