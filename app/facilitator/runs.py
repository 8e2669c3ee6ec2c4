"""Optimiser runs for the demo-day pages: solved in a background thread while the browser polls for progress.

There is no job table on this branch, so a run lives in the serving process (on `app.state.plan_runs`):
the page that starts it and the page that polls it must reach the same process, and a restart forgets
runs in flight (the plan is only stored when its run finishes, so nothing half-made is left behind).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.orm import Session, sessionmaker

from app.core.database import unit_of_work
from app.core.errors import AppError

logger = logging.getLogger(__name__)

RunState = Literal["running", "done", "failed"]
# Runs kept for polling; the oldest finished ones are forgotten past this.
KEEP = 200
# Runs solving at once: each holds a core for up to the optimiser's time limit.
MAX_RUNNING = 2


class RunsBusy(AppError):
    status = 503


@dataclass(slots=True)
class PlanRun:
    """One optimiser run: what it is for, how long it has run, and the plan it stored or why it failed."""

    id: str
    tenant: str
    label: str
    time_limit: float
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    plan_id: int | None = None
    error: str | None = None

    @property
    def state(self) -> RunState:
        if self.finished is None:
            return "running"
        return "failed" if self.error is not None else "done"

    @property
    def seconds(self) -> float:
        return round((self.finished or time.monotonic()) - self.started, 1)


class PlanRuns:
    """The process's optimiser runs, each solved in its own thread with its own unit of work."""

    def __init__(self, *, max_running: int = MAX_RUNNING, keep: int = KEEP) -> None:
        self.max_running = max_running
        self.keep = keep
        self._runs: dict[str, PlanRun] = {}
        self._lock = threading.Lock()

    def start(
        self,
        *,
        factory: sessionmaker[Session],
        tenant: str,
        label: str,
        time_limit: float,
        work: Callable[[Session], int],
    ) -> PlanRun:
        """Starts `work` (which stores a plan or revision and returns the plan's id) in a thread."""
        run = PlanRun(id=secrets.token_urlsafe(12), tenant=tenant, label=label, time_limit=time_limit)
        with self._lock:
            running = sum(r.state == "running" for r in self._runs.values())
            if running >= self.max_running:
                raise RunsBusy(f"{running} plans are being optimised; try again when one has finished")
            self._runs[run.id] = run
            self._forget_old()
        threading.Thread(target=self._solve, args=(run, factory, work), name=f"plan-run-{run.id}", daemon=True).start()
        return run

    def get(self, run_id: str, *, tenant: str) -> PlanRun | None:
        run = self._runs.get(run_id)
        return run if run is not None and run.tenant == tenant else None

    def _solve(self, run: PlanRun, factory: sessionmaker[Session], work: Callable[[Session], int]) -> None:
        try:
            with unit_of_work(factory) as session:
                plan_id = work(session)
            run.plan_id = plan_id
        except AppError as exc:
            run.error = exc.detail
        except Exception:
            logger.exception("plan run %s failed", run.id)
            run.error = "The optimiser failed unexpectedly; the server's log says why."
        finally:
            run.finished = time.monotonic()

    def _forget_old(self) -> None:
        finished = [r for r in self._runs.values() if r.state != "running"]
        for run in sorted(finished, key=lambda r: r.started)[: max(len(self._runs) - self.keep, 0)]:
            del self._runs[run.id]
