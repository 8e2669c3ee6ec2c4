"""Blocking work: at most N jobs at once, a bounded queue, 503 past it, and the turn given back on errors."""

from __future__ import annotations

import anyio
import pytest

from app.core.work import BlockingWork, Busy


def test_jobs_past_the_threads_wait_and_past_the_queue_are_refused() -> None:
    work = BlockingWork(threads=1, queue=1)
    order: list[str] = []

    async def job(name: str, hold: anyio.Event, started: anyio.Event | None = None) -> None:
        async with work.slot():
            order.append(name)
            if started is not None:
                started.set()
            await hold.wait()

    async def main() -> None:
        release = anyio.Event()
        first_in = anyio.Event()
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(job, "first", release, first_in)
            await first_in.wait()
            tasks.start_soon(job, "second", release)
            await anyio.wait_all_tasks_blocked()
            assert (work.running, work.waiting) == (1, 1)
            with pytest.raises(Busy) as refused:
                async with work.slot():
                    pass
            assert refused.value.status == 503 and refused.value.headers == {"Retry-After": "5"}
            release.set()
        assert order == ["first", "second"]
        assert (work.running, work.waiting) == (0, 0)

    anyio.run(main)


def test_a_failing_job_gives_its_turn_back() -> None:
    work = BlockingWork(threads=1, queue=0)

    async def main() -> None:
        with pytest.raises(RuntimeError):
            async with work.slot():
                raise RuntimeError("the import broke")
        async with work.slot():
            assert work.running == 1

    anyio.run(main)
