"""Optimiser runs of the demo-day pages are jobs: any process solves them; a plan's id when done, the reason in
words when not, only for the run's tenant."""

from __future__ import annotations

import time

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core.database import unit_of_work
from app.facilitator.runs import UNEXPECTED, PlanRun, get_run, start_plan, start_revision
from app.jobs import service as jobs
from app.models import PairingPlan
from app.pairing.schemas import PairingPlanCreate, PairingRevisionCreate
from tests.app.pairing.test_routes import _ids_by_ref, plan_body


def _finished(app: FastAPI, run_id: int, tenant: str = "default") -> PlanRun:
    deadline = time.monotonic() + 60
    while True:
        with unit_of_work(app.state.session_factory) as session:
            run = get_run(session, run_id=run_id, tenant=tenant)
        assert run is not None
        if run.state != "running" or time.monotonic() > deadline:
            return run
        time.sleep(0.1)


def test_a_run_is_solved_by_the_job_worker_and_reports_its_plan(loaded_client: TestClient) -> None:
    app: FastAPI = loaded_client.app  # type: ignore[assignment]
    ids = _ids_by_ref(loaded_client, "companies") | _ids_by_ref(loaded_client, "providers")
    body = plan_body(ids)
    with unit_of_work(app.state.session_factory) as session:
        run_id = start_plan(session, data=PairingPlanCreate.model_validate(body), tenant="default", author="frida")
    done = _finished(app, run_id)
    assert (done.state, done.error) == ("done", None) and done.plan_id is not None
    assert loaded_client.get(f"/api/v1/pairing-plans/{done.plan_id}").json()["name"] == body["name"]
    # Another tenant's facilitator cannot follow it; a job of another kind is not a run.
    with unit_of_work(app.state.session_factory) as session:
        assert get_run(session, run_id=run_id, tenant="north") is None
        learn = jobs.enqueue(session, kind=jobs.LEARN, tenant="default", payload={}, created_by="x").id
    with unit_of_work(app.state.session_factory) as session:
        assert get_run(session, run_id=learn, tenant="default") is None

    # A revision runs the same way and appends revision 2 to the same plan.
    first = loaded_client.get(f"/api/v1/pairing-plans/{done.plan_id}").json()["assignments"][0]
    pair = {"company_id": first["company_id"], "provider_id": first["provider_id"]}
    revision = PairingRevisionCreate.model_validate({"remove": [pair], "author": "frida"})
    with unit_of_work(app.state.session_factory) as session:
        plan = session.get(PairingPlan, done.plan_id)
        assert plan is not None
        revised = start_revision(session, plan=plan, data=revision, tenant="default", author="frida")
    again = _finished(app, revised)
    assert again.state == "done" and again.plan_id == done.plan_id
    assert again.label == f"Revision 2 of {body['name']}"
    assert loaded_client.get(f"/api/v1/pairing-plans/{done.plan_id}").json()["revision"] == 2


def test_a_failed_run_says_why_in_words_and_never_shows_a_crash(loaded_client: TestClient) -> None:
    app: FastAPI = loaded_client.app  # type: ignore[assignment]
    revision = PairingRevisionCreate.model_validate({"remove": [{"company_id": 1, "provider_id": 1}]})
    with unit_of_work(app.state.session_factory) as session:
        # A plan deleted (or never there) by the time a worker takes the revision.
        gone = PairingPlan(id=999_999, name="gone", revision=1)
        missing = start_revision(session, plan=gone, data=revision, tenant="default", author="frida")
        # A payload no handler can read: the failure is unexpected, and its text stays in the log.
        broken = jobs.enqueue(
            session, kind=jobs.REVISE, tenant="default", payload={"plan_id": "x", "revision": {}}, created_by="x"
        ).id
    refused = _finished(app, missing)
    assert refused.state == "failed" and refused.error is not None and "999999" in refused.error
    crashed = _finished(app, broken)
    assert crashed.state == "failed" and crashed.error == UNEXPECTED
