"""Optimiser runs of the demo-day pages, as jobs: queued in the jobs table, claimed by any serving process.

A run is a `pairing.plan` or `pairing.revise` job (app/jobs/service.py): whichever process is free
solves it and commits the plan with the job's result, so the page that starts a run and the page that
follows it may reach different processes (`techmatch serve --workers N`, several machines), and a run
whose process dies is claimed again by another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from app.jobs import service as jobs
from app.jobs.repository import JobRepository
from app.models import Job, JobStatus, PairingPlan, utcnow
from app.pairing.schemas import PairingPlanCreate, PairingRevisionCreate
from app.pairing.service import TIME_LIMIT_SECONDS
from app.web.i18n import N_, as_written

RunState = Literal["running", "done", "failed"]
RUN_KINDS = (jobs.PLAN, jobs.REVISE)
UNEXPECTED = N_("The optimiser failed unexpectedly; the server's log says why.")
WAITING = N_("waiting for a free worker")


@dataclass(frozen=True, slots=True)
class PlanRun:
    """What the progress page shows of one run: its state and progress, the plan when done, why not when failed."""

    id: int
    label: str
    state: RunState
    progress: float
    message: str
    seconds: float
    time_limit: float
    plan_id: int | None
    error: str | None


def start_plan(session: Session, *, data: PairingPlanCreate, tenant: str, author: str) -> int:
    """Queue a new plan; returns the run's id."""
    payload = data.model_dump(mode="json")
    return jobs.enqueue(session, kind=jobs.PLAN, tenant=tenant, payload=payload, created_by=author).id


def start_revision(
    session: Session, *, plan: PairingPlan, data: PairingRevisionCreate, tenant: str, author: str
) -> int:
    """Queue the plan's next revision (locks and removals re-optimised); returns the run's id."""
    # The label is made when shown, in the reader's language, from the number and the name.
    payload = {
        "plan_id": plan.id,
        "revision": data.model_dump(mode="json"),
        "number": plan.revision + 1,
        "name": plan.name,
    }
    return jobs.enqueue(session, kind=jobs.REVISE, tenant=tenant, payload=payload, created_by=author).id


def get_run(session: Session, *, run_id: int, tenant: str, say: Callable[[str], str] = as_written) -> PlanRun | None:
    """The tenant's run, or None (another tenant's, another kind of job, or none); its words in `say`'s language
    (a page passes its gettext)."""
    job = JobRepository(session).get(run_id, tenant=tenant)
    if job is None or job.kind not in RUN_KINDS:
        return None
    return _run(job, say)


def _seconds(start: datetime | None, end: datetime | None) -> float:
    if start is None:
        return 0.0
    return round(max(((end or utcnow()) - start).total_seconds(), 0.0), 1)


def _label(job: Job, say: Callable[[str], str]) -> str:
    payload: dict[str, Any] = job.payload
    if job.kind == jobs.REVISE:
        if "number" not in payload:  # queued before the label was made when shown
            return str(payload.get("label") or say(N_("A new revision of the plan")))
        name = payload.get("name") or say(N_("the plan"))
        return say(N_("Revision %(number)s of %(name)s")) % {"number": payload["number"], "name": name}
    return say(N_("Planning %(name)s")) % {"name": payload.get("name") or say(N_("a demo day"))}


def _run(job: Job, say: Callable[[str], str]) -> PlanRun:
    state: RunState = (
        "done" if job.status is JobStatus.succeeded else "failed" if job.status is JobStatus.failed else "running"
    )
    error = None
    if job.status is JobStatus.failed:
        # The problem the waiting request would have answered; an unexpected failure says only that.
        detail = (job.error or {}).get("detail")
        status = (job.error or {}).get("status", 500)
        error = say(str(detail)) if detail and status < 500 else say(UNEXPECTED)
    return PlanRun(
        id=job.id,
        label=_label(job, say),
        state=state,
        progress=job.progress,
        # The optimiser's steps are plain message ids (app.pairing.service), said in the reader's language.
        message=say(job.message)
        if job.status is JobStatus.running
        else (say(WAITING) if state == "running" else say(job.message)),
        seconds=_seconds(job.started_at, job.finished_at),
        time_limit=TIME_LIMIT_SECONDS,
        plan_id=int(job.result["plan_id"]) if job.result and "plan_id" in job.result else None,
        error=error,
    )
