"""Long jobs: queued with `Prefer: respond-async`, claimed from the jobs table, progress and outcome readable."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.core.database import unit_of_work
from app.core.settings import Settings
from app.jobs.repository import JobRepository
from app.jobs.service import PLAN, JobWorker
from app.main import JOB_HANDLERS, create_app
from app.models import Job, JobStatus, Match, MatchStatus, utcnow
from tests.app.pairing.test_routes import PLANS, _ids_by_ref, _pair, plan_body
from tests.app.support import authorize

ASYNC = {"Prefer": "respond-async"}


def _app(client: TestClient) -> FastAPI:
    assert isinstance(client.app, FastAPI)
    return client.app


def _finished(client: TestClient, url: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(url).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


@pytest.fixture
def ids(loaded_client: TestClient) -> dict[str, int]:
    return _ids_by_ref(loaded_client, "companies") | _ids_by_ref(loaded_client, "providers")


def test_a_plan_queued_as_a_job_is_solved_and_readable(loaded_client: TestClient, ids: dict[str, int]) -> None:
    response = loaded_client.post(PLANS, json=plan_body(ids), headers=ASYNC)
    assert response.status_code == 202, response.text
    assert response.headers["Preference-Applied"] == "respond-async"
    queued = response.json()
    assert (queued["kind"], queued["status"], queued["progress"]) == ("pairing.plan", "queued", 0.0)
    assert response.headers["Location"] == f"/api/v1/jobs/{queued['id']}"

    job = _finished(loaded_client, response.headers["Location"])
    assert (job["status"], job["progress"], job["attempts"], job["error"]) == ("succeeded", 1.0, 1, None)
    assert job["location"] == f"{PLANS}/{job['result']['plan_id']}"
    plan = loaded_client.get(job["location"])
    assert plan.status_code == 200 and plan.json()["assignments"]
    # The same plan as a waited-for request makes.
    waited = loaded_client.post(PLANS, json=plan_body(ids))
    assert waited.status_code == 201
    assert waited.json()["assignments"] == plan.json()["assignments"]
    listed = loaded_client.get("/api/v1/jobs", params={"kind": "pairing.plan"}).json()
    assert [item["id"] for item in listed["items"]] == [job["id"]]


def test_a_job_that_fails_carries_the_problem(loaded_client: TestClient, ids: dict[str, int]) -> None:
    body = plan_body(ids, must_pairs=[_pair(ids[c], ids["P1"]) for c in ("C1", "C2", "C3")])
    response = loaded_client.post(PLANS, json=body, headers=ASYNC)
    assert response.status_code == 202
    job = _finished(loaded_client, response.headers["Location"])
    assert job["status"] == "failed" and job["result"] is None and job["location"] is None
    assert job["error"]["status"] == 422 and job["error"]["detail"] == job["message"]
    # What can be checked before solving is still answered at once.
    unknown = loaded_client.post(PLANS, json=plan_body(ids, company_ids=[999]), headers=ASYNC)
    assert unknown.status_code == 422


def test_jobs_are_tenant_scoped_and_take_the_scope_of_their_kind(
    loaded_client: TestClient, ids: dict[str, int]
) -> None:
    job_url = loaded_client.post(PLANS, json=plan_body(ids), headers=ASYNC).headers["Location"]
    _finished(loaded_client, job_url)
    authorize(loaded_client, tenant="other", scopes=("pairing",))
    missing = loaded_client.get(job_url)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert loaded_client.get("/api/v1/jobs").json()["total"] == 0
    authorize(loaded_client, scopes=("matches:read",))
    assert loaded_client.get(job_url).status_code == 403
    assert loaded_client.get("/api/v1/jobs").json()["total"] == 0


def test_learning_queued_as_a_job(loaded_client: TestClient) -> None:
    app = _app(loaded_client)
    for need in loaded_client.get("/api/v1/needs", params={"limit": 100}).json()["items"]:
        items = loaded_client.post(f"/api/v1/needs/{need['id']}/matches", params={"k": 10}).json()["items"]
        with unit_of_work(app.state.session_factory) as session:
            for item in items:
                status = MatchStatus.approved if item["components"]["taxonomy"] >= 0.5 else MatchStatus.rejected
                session.execute(
                    update(Match)
                    .where(Match.need_id == need["id"], Match.technology_id == item["technology_id"])
                    .values(status=status)
                )
    response = loaded_client.post("/api/v1/admin/learn", headers=ASYNC)
    assert response.status_code == 202
    job = _finished(loaded_client, response.headers["Location"])
    assert job["status"] == "succeeded", job
    model = loaded_client.get(job["location"]).json()
    assert model["id"] == job["result"]["ranking_model_id"]


@pytest.fixture
def idle_app(loaded_settings: Settings) -> Any:
    """Started without a job worker: the test runs workers by hand."""
    app = create_app(loaded_settings.model_copy(update={"job_worker": False, "job_lease_seconds": 5}))
    with TestClient(app) as client:
        authorize(client)
        yield client


def _worker(app: FastAPI, name: str) -> JobWorker:
    return JobWorker(
        app.state.session_factory,
        settings=app.state.settings,
        matcher=app.state.matcher,
        handlers=JOB_HANDLERS,
        name=name,
    )


def test_a_job_whose_worker_stopped_is_claimed_again_then_given_up(idle_app: TestClient, ids: dict[str, int]) -> None:
    app = _app(idle_app)
    job_id = idle_app.post(PLANS, json=plan_body(ids), headers=ASYNC).json()["id"]
    settings = app.state.settings
    # A worker claims it and dies: its heartbeat stops.
    with unit_of_work(app.state.session_factory) as session:
        now = utcnow()
        claimed = JobRepository(session).claim(
            worker="gone", now=now, stale_before=now - timedelta(seconds=5), max_attempts=settings.job_max_attempts
        )
        assert claimed is not None and claimed.id == job_id
    assert _worker(app, "second").run_one() is False  # its lease has not run out
    with unit_of_work(app.state.session_factory) as session:
        session.execute(update(Job).values(heartbeat_at=utcnow() - timedelta(seconds=60)))
    assert _worker(app, "second").run_one() is True
    job = idle_app.get(f"/api/v1/jobs/{job_id}").json()
    assert (job["status"], job["attempts"]) == ("succeeded", 2)

    # One that stopped on its last attempt is failed with the reason.
    other = idle_app.post(PLANS, json=plan_body(ids), headers=ASYNC).json()["id"]
    with unit_of_work(app.state.session_factory) as session:
        session.execute(
            update(Job)
            .where(Job.id == other)
            .values(
                status=JobStatus.running,
                attempts=settings.job_max_attempts,
                heartbeat_at=utcnow() - timedelta(seconds=60),
            )
        )
    assert _worker(app, "third").run_one() is False
    failed = idle_app.get(f"/api/v1/jobs/{other}").json()
    assert failed["status"] == "failed" and "gave up after" in failed["error"]["detail"]


def test_concurrent_workers_never_claim_the_same_job(idle_app: TestClient) -> None:
    app = _app(idle_app)
    with unit_of_work(app.state.session_factory) as session:
        for _ in range(40):
            session.add(Job(kind=PLAN, tenant="default", payload={}))
    claims: dict[str, list[int]] = {}

    def claim_all(name: str) -> None:
        mine = claims.setdefault(name, [])
        while True:
            with unit_of_work(app.state.session_factory) as session:
                now = utcnow()
                job = JobRepository(session).claim(
                    worker=name, now=now, stale_before=now - timedelta(seconds=60), max_attempts=3
                )
                if job is None:
                    return
                mine.append(job.id)

    threads = [threading.Thread(target=claim_all, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [job_id for ids in claims.values() for job_id in ids]
    assert len(everything) == len(set(everything)) == 40
    with unit_of_work(app.state.session_factory) as session:
        owners = {job.id: job.claimed_by for job in session.scalars(select(Job))}
    assert all(owners[job_id] == name for name, ids in claims.items() for job_id in ids)
