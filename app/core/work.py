"""Blocking work (imports, exports, plan solving, learning, rebuilds) held to a few worker threads at once.

Routes that do such work are plain `def` routes, so Starlette runs them in its worker threads and
the event loop stays free for every other request. Without a bound, a burst of them would take
every worker thread (40) that matches and lists need too; `BlockingWorkDep` admits at most
`blocking_work_threads` of them at a time, lets `blocking_work_queue` more wait, and answers 503
with Retry-After past that.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import anyio
from fastapi import Depends, Request

from app.core.errors import AppError

RETRY_AFTER_S = 5


class Busy(AppError):
    status = 503

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Retry-After": str(RETRY_AFTER_S)})


class BlockingWork:
    """At most `threads` blocking jobs run at once; at most `queue` more wait for a turn."""

    def __init__(self, *, threads: int, queue: int) -> None:
        self.threads = threads
        self.queue = queue
        self._slots = anyio.Semaphore(threads)

    @property
    def waiting(self) -> int:
        return self._slots.statistics().tasks_waiting

    @property
    def running(self) -> int:
        return self.threads - self._slots.value

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._slots.value == 0 and self.waiting >= self.queue:
            raise Busy(
                f"{self.running} imports, exports or other long jobs are running and {self.waiting} are waiting; "
                "retry shortly"
            )
        async with self._slots:
            yield


async def blocking_work_slot(request: Request) -> AsyncIterator[None]:
    """Held while the route runs (scope "function": released before the response is sent)."""
    work: BlockingWork = request.app.state.blocking_work
    async with work.slot():
        yield


BlockingWorkDep = Annotated[None, Depends(blocking_work_slot, scope="function")]
