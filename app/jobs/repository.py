"""Queries of the jobs table: add, read a tenant's, claim one for a worker, record progress and the outcome."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from app.models import Job, JobStatus


class JobRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, job: Job) -> Job:
        self.session.add(job)
        self.session.flush()
        return job

    def get(self, job_id: int, *, tenant: str) -> Job | None:
        job = self.session.get(Job, job_id)
        return job if job is not None and job.tenant == tenant else None

    def page(
        self, *, tenant: str, kinds: Sequence[str], limit: int, offset: int, status: JobStatus | None = None
    ) -> tuple[list[Job], int]:
        where: list[ColumnElement[bool]] = [Job.tenant == tenant, Job.kind.in_(kinds)]
        if status is not None:
            where.append(Job.status == status)
        total = self.session.scalar(select(func.count()).select_from(Job).where(*where)) or 0
        rows = self.session.scalars(select(Job).where(*where).order_by(Job.id.desc()).limit(limit).offset(offset))
        return list(rows), total

    def claim(self, *, worker: str, now: datetime, stale_before: datetime, max_attempts: int) -> Job | None:
        """The oldest queued job (or a running one whose worker went quiet), claimed for `worker` in one
        statement: `FOR UPDATE SKIP LOCKED` on PostgreSQL lets workers pass each other; on SQLite the
        single UPDATE is atomic, since SQLite runs one writer at a time."""
        candidate = (
            select(Job.id)
            .where(_claimable(stale_before=stale_before, max_attempts=max_attempts))
            .order_by(Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        claimed = self.session.execute(
            update(Job)
            .where(Job.id == candidate, _claimable(stale_before=stale_before, max_attempts=max_attempts))
            .values(
                status=JobStatus.running,
                claimed_by=worker,
                claimed_at=now,
                heartbeat_at=now,
                attempts=Job.attempts + 1,
                started_at=func.coalesce(Job.started_at, now),
            )
            .returning(Job.id)
        ).scalar()
        if claimed is None:
            return None
        return self.session.get(Job, claimed, populate_existing=True)

    def give_up_stale(self, *, now: datetime, stale_before: datetime, max_attempts: int) -> int:
        """Jobs whose worker stopped on their last allowed attempt: failed, with the reason."""
        result = self.session.execute(
            update(Job)
            .where(Job.status == JobStatus.running, Job.heartbeat_at < stale_before, Job.attempts >= max_attempts)
            .values(
                status=JobStatus.failed,
                finished_at=now,
                error={
                    "status": 500,
                    "title": "Internal Server Error",
                    "detail": f"gave up after {max_attempts} attempts: the process running it stopped each time",
                },
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def report(self, job_id: int, *, worker: str, now: datetime, **values: Any) -> bool:
        """Progress, message or heartbeat of a job this worker still holds; False when it lost it."""
        result = self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.claimed_by == worker, Job.status == JobStatus.running)
            .values(heartbeat_at=now, **values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _claimable(*, stale_before: datetime, max_attempts: int) -> ColumnElement[bool]:
    return or_(
        Job.status == JobStatus.queued,
        and_(Job.status == JobStatus.running, Job.heartbeat_at < stale_before, Job.attempts < max_attempts),
    )
