"""Routes of long jobs: their status and progress, one or the tenant's list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.core.auth import AnyKeyDep
from app.core.deps import PageDep, SessionDep
from app.core.schemas import Page
from app.jobs import service as jobs
from app.jobs.schemas import JobRead
from app.models import JobStatus

router = APIRouter(prefix="/jobs", tags=["jobs"])

# Clients poll a running job; this is how often it is worth asking.
POLL_AFTER_S = 1


@router.get("/{job_id}", responses={403: {"description": "the key lacks the scope of the job's kind"}})
def get_job(principal: AnyKeyDep, job_id: int, session: SessionDep, response: Response) -> JobRead:
    """A job of the caller's tenant: queued, running (with its progress and what it is doing), succeeded (with
    what it made and where) or failed (with the problem). Reading one takes the scope that queuing it took:
    `pairing` for plans, `admin` for learning."""
    job = jobs.get_job(session, job_id=job_id, tenant=principal.tenant, allows=principal.allows)
    if job.status in (JobStatus.queued, JobStatus.running):
        response.headers["Retry-After"] = str(POLL_AFTER_S)
    return JobRead.of(job)


@router.get("")
def list_jobs(
    principal: AnyKeyDep,
    session: SessionDep,
    page: PageDep,
    kind: Annotated[str | None, Query(description="only jobs of this kind")] = None,
    status: Annotated[JobStatus | None, Query(description="only jobs in this state")] = None,
) -> Page[JobRead]:
    """The tenant's jobs of the kinds the key may read, newest first."""
    rows, total = jobs.list_jobs(
        session,
        tenant=principal.tenant,
        allows=principal.allows,
        limit=page.limit,
        offset=page.offset,
        kind=kind,
        status=status,
    )
    return Page[JobRead](items=[JobRead.of(row) for row in rows], total=total, limit=page.limit, offset=page.offset)
