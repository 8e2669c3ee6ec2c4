"""Response bodies of jobs: status and progress, the result or the error."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.jobs.service import location
from app.models import Job, JobStatus


class JobRead(BaseModel):
    id: int
    kind: str = Field(
        description="pairing.plan (a demonstration-day plan solved) or learning.learn (a ranking learned)"
    )
    status: JobStatus = Field(description="queued, running, succeeded or failed")
    progress: float = Field(ge=0.0, le=1.0, description="how far the job got, 0 to 1 (1 once it succeeded)")
    message: str = Field(description="what the job is doing now, or why it failed")
    result: dict[str, Any] | None = Field(
        description="what the job made, once it succeeded: {'plan_id': ...} or {'ranking_model_id': ...}"
    )
    location: str | None = Field(description="the URL of what the job made, once it succeeded")
    error: dict[str, Any] | None = Field(
        description=(
            "once it failed: the problem (status, title, detail, errors) the request would have been "
            "answered with had it waited"
        )
    )
    attempts: int = Field(description="times a worker started it (more than 1 when a process running it stopped)")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job) -> JobRead:
        return cls(
            id=job.id,
            kind=job.kind,
            status=job.status,
            progress=job.progress,
            message=job.message,
            result=job.result,
            location=location(job),
            error=job.error,
            attempts=job.attempts,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )
