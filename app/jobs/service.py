"""Long jobs in a table: queued by a request, claimed by whichever serving process is free, progress reported.

A request that asks for it (`Prefer: respond-async`) gets 202 and the job instead of waiting for a
plan to be solved or a ranking to be learned. Each serving process runs a `JobWorker` thread that
claims one job at a time (`JobRepository.claim`, as the webhook outbox claims deliveries), runs it
and commits its result together with the job's own writes; a heartbeat keeps the claim, so a job whose
process died is claimed again by another.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from http import HTTPStatus
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.core.after_commit import after_commit
from app.core.database import unit_of_work
from app.core.errors import AppError, Forbidden, NotFound
from app.core.settings import Settings
from app.jobs.repository import JobRepository
from app.models import Job, JobStatus, utcnow
from matching.matcher import Matcher

logger = logging.getLogger(__name__)

# Where a session finds its process's job worker, to wake it when a job is queued.
WORKER_KEY = "techmatch.jobs"

# The kinds of job, and the scope a key needs to queue or read one.
PLAN = "pairing.plan"
REVISE = "pairing.revise"
LEARN = "learning.learn"
SCOPES: Mapping[str, str] = {PLAN: "pairing", REVISE: "pairing", LEARN: "admin"}
# Where a succeeded job's result lives, by kind.
LOCATIONS: Mapping[str, Callable[[dict[str, Any]], str]] = {
    PLAN: lambda result: f"/api/v1/pairing-plans/{result['plan_id']}",
    REVISE: lambda result: f"/api/v1/pairing-plans/{result['plan_id']}",
    LEARN: lambda _result: "/api/v1/admin/ranking-model",
}
_MESSAGE_CHARS = 500


@dataclass
class JobContext:
    """What a job's handler gets besides its session: the job, the engine, and a way to report progress."""

    job_id: int
    tenant: str
    payload: dict[str, Any]
    created_by: str | None
    matcher: Matcher
    settings: Settings
    report: Callable[[float, str], None] = field(repr=False)


# A handler does the job's work in the session it is given (committed with the job's result) and
# returns the result (ids of what it made).
Handler = Callable[[Session, JobContext], dict[str, Any]]


class JobLost(RuntimeError):
    """The worker's claim lapsed (no heartbeat for a lease) and another worker took the job."""


# -- queuing and reading ---------------------------------------------------------------------------------------


def enqueue(session: Session, *, kind: str, tenant: str, payload: dict[str, Any], created_by: str | None) -> Job:
    """Queue a job in the caller's transaction; the local worker is woken once it commits."""
    if kind not in SCOPES:
        raise ValueError(f"unknown job kind {kind!r}")
    job = JobRepository(session).add(
        Job(kind=kind, tenant=tenant, payload=payload, status=JobStatus.queued, created_by=created_by)
    )
    worker: JobWorker | None = session.info.get(WORKER_KEY)
    if worker is not None:
        after_commit(session, worker.wake)
    return job


def get_job(session: Session, *, job_id: int, tenant: str, allows: Callable[[str], bool]) -> Job:
    """The tenant's job (404 for another tenant's or none); 403 for a key without the scope of its kind."""
    job = JobRepository(session).get(job_id, tenant=tenant)
    if job is None:
        raise NotFound(f"no job with id {job_id}")
    scope = SCOPES.get(job.kind)
    if scope is None or not allows(scope):
        raise Forbidden(f"reading a {job.kind} job takes the scope {scope!r}")
    return job


def list_jobs(
    session: Session,
    *,
    tenant: str,
    allows: Callable[[str], bool],
    limit: int,
    offset: int,
    kind: str | None = None,
    status: JobStatus | None = None,
) -> tuple[list[Job], int]:
    """The tenant's jobs of the kinds the key may read, newest first."""
    kinds = [k for k, scope in SCOPES.items() if allows(scope) and (kind is None or k == kind)]
    return JobRepository(session).page(tenant=tenant, kinds=kinds, limit=limit, offset=offset, status=status)


def location(job: Job) -> str | None:
    if job.status is not JobStatus.succeeded or job.result is None or job.kind not in LOCATIONS:
        return None
    return LOCATIONS[job.kind](job.result)


def problem_of(exc: Exception) -> dict[str, Any]:
    """How a failed job reports its error: the problem the synchronous request would have answered."""
    if isinstance(exc, AppError):
        problem: dict[str, Any] = {
            "status": exc.status,
            "title": HTTPStatus(exc.status).phrase,
            "detail": exc.detail,
        }
        if exc.errors:
            problem["errors"] = exc.errors
        return problem
    return {"status": 500, "title": "Internal Server Error", "detail": "the job failed; the server's log says why"}


# -- running ---------------------------------------------------------------------------------------------------


class JobWorker:
    """A background thread of a serving process: claims due jobs one at a time and runs them."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        settings: Settings,
        matcher: Matcher,
        handlers: Mapping[str, Handler],
        name: str,
    ) -> None:
        self.factory = factory
        self.settings = settings
        self.matcher = matcher
        self.handlers = dict(handlers)
        self.name = name
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="techmatch-jobs", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            # A running job is not interrupted: its claim lapses and another process runs it again.
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                while not self._stop.is_set() and self.run_one():
                    pass
            except Exception:  # a database hiccup must not end the worker; the next pass retries
                logger.exception("job pass failed")
            self._wake.wait(self.settings.job_poll_seconds)
            self._wake.clear()

    def run_one(self) -> bool:
        """Claim and run one job; False when none was due."""
        job = self._claim()
        if job is None:
            return False
        job_id, kind = job.id, job.kind
        handler = self.handlers.get(kind)
        if handler is None:
            self._fail(job_id, {"status": 500, "title": "Internal Server Error", "detail": f"no handler for {kind}"})
            return True
        stop_beating = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(job_id, stop_beating), daemon=True)
        beat.start()
        try:
            with unit_of_work(self.factory) as session:
                context = JobContext(
                    job_id=job_id,
                    tenant=job.tenant,
                    payload=dict(job.payload),
                    created_by=job.created_by,
                    matcher=self.matcher,
                    settings=self.settings,
                    report=lambda progress, message: self._report(job_id, progress, message),
                )
                result = handler(session, context)
                self._finish(session, job_id, result)
            logger.info("job %d (%s) succeeded: %s", job_id, kind, result)
        except JobLost:
            logger.warning("job %d (%s): another worker took it over; this run's writes were rolled back", job_id, kind)
        except Exception as exc:
            if not isinstance(exc, AppError):
                logger.exception("job %d (%s) failed", job_id, kind)
            self._fail(job_id, problem_of(exc))
        finally:
            stop_beating.set()
            beat.join()
        return True

    def _claim(self) -> Job | None:
        now = utcnow()
        stale_before = now - timedelta(seconds=self.settings.job_lease_seconds)
        with unit_of_work(self.factory) as session:
            repository = JobRepository(session)
            repository.give_up_stale(now=now, stale_before=stale_before, max_attempts=self.settings.job_max_attempts)
        with unit_of_work(self.factory) as session:
            job = JobRepository(session).claim(
                worker=self.name, now=now, stale_before=stale_before, max_attempts=self.settings.job_max_attempts
            )
            if job is not None:
                logger.info("job %d (%s) claimed, attempt %d", job.id, job.kind, job.attempts)
            return job

    def _heartbeat(self, job_id: int, stop: threading.Event) -> None:
        while not stop.wait(self.settings.job_lease_seconds / 3):
            try:
                with unit_of_work(self.factory) as session:
                    JobRepository(session).report(job_id, worker=self.name, now=utcnow())
            except Exception:  # the next beat retries; a lapsed claim shows at the finish
                logger.exception("heartbeat of job %d failed", job_id)

    def _report(self, job_id: int, progress: float, message: str) -> None:
        with unit_of_work(self.factory) as session:
            JobRepository(session).report(
                job_id,
                worker=self.name,
                now=utcnow(),
                progress=min(max(float(progress), 0.0), 1.0),
                message=message[:_MESSAGE_CHARS],
            )

    def _finish(self, session: Session, job_id: int, result: dict[str, Any]) -> None:
        # In the handler's transaction: its writes and the job's success commit together, or not at all.
        held = JobRepository(session).report(
            job_id,
            worker=self.name,
            now=utcnow(),
            status=JobStatus.succeeded,
            progress=1.0,
            message="done",
            result=result,
            finished_at=utcnow(),
        )
        if not held:
            raise JobLost(job_id)

    def _fail(self, job_id: int, problem: dict[str, Any]) -> None:
        with unit_of_work(self.factory) as session:
            JobRepository(session).report(
                job_id,
                worker=self.name,
                now=utcnow(),
                status=JobStatus.failed,
                message=str(problem.get("detail", ""))[:_MESSAGE_CHARS],
                error=problem,
                finished_at=utcnow(),
            )
