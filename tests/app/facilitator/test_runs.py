"""Optimiser runs in the background: a stored plan's id when done, the reason in words when not, a bound."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from app.core.errors import ValidationProblem
from app.facilitator.runs import PlanRun, PlanRuns, RunsBusy


def _finished(run: PlanRun) -> PlanRun:
    deadline = time.monotonic() + 10
    while run.state == "running" and time.monotonic() < deadline:
        time.sleep(0.02)
    return run


def test_a_run_reports_its_plan_or_why_it_failed(loaded_app: FastAPI) -> None:
    runs, factory = PlanRuns(), loaded_app.state.session_factory

    def impossible(_: Session) -> int:
        raise ValidationProblem("the locked pairs need more rounds than the day has")

    def broken(_: Session) -> int:
        raise RuntimeError("a bug")

    done = _finished(runs.start(factory=factory, tenant="default", label="ok", time_limit=30, work=lambda _: 7))
    assert (done.state, done.plan_id, done.error) == ("done", 7, None)
    refused = _finished(runs.start(factory=factory, tenant="default", label="no", time_limit=30, work=impossible))
    assert refused.state == "failed" and refused.error == "the locked pairs need more rounds than the day has"
    crashed = _finished(runs.start(factory=factory, tenant="default", label="bug", time_limit=30, work=broken))
    assert crashed.state == "failed" and "a bug" not in (crashed.error or "")
    # Another tenant's facilitator cannot follow the run.
    assert runs.get(done.id, tenant="default") is done
    assert runs.get(done.id, tenant="north") is None


def test_at_most_so_many_runs_at_once(loaded_app: FastAPI) -> None:
    runs, factory, release = PlanRuns(max_running=1), loaded_app.state.session_factory, threading.Event()

    def slow(_: Session) -> int:
        release.wait(10)
        return 1

    first = runs.start(factory=factory, tenant="default", label="slow", time_limit=30, work=slow)
    with pytest.raises(RunsBusy):
        runs.start(factory=factory, tenant="default", label="second", time_limit=30, work=slow)
    release.set()
    assert _finished(first).state == "done"
    assert (
        _finished(runs.start(factory=factory, tenant="default", label="third", time_limit=30, work=slow)).plan_id == 1
    )
