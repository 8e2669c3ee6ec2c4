"""Several processes on one database stay equal to it: two apps (two indexes, two data dirs) follow the change log."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, update

from app.core.database import unit_of_work
from app.core.settings import Settings
from app.main import create_app
from app.models import CatalogueChange, Match, MatchStatus
from app.replication.service import Follower, database_digest, index_digest
from matching.ranking.fusion import RankingWeights
from matching.retrieval.vector_index import VectorIndex
from tests.app.support import authorize, counting_matcher


def _settings(base: Settings, data_dir: Path) -> Settings:
    # A long poll, so that what these tests see comes from the log being followed, not from luck.
    return base.model_copy(update={"data_dir": data_dir, "follow_poll_seconds": 0.05})


@pytest.fixture
def replicas(loaded_settings: Settings, tmp_path: Path) -> Iterator[tuple[TestClient, TestClient]]:
    """Two started apps on the same database, each with an index and a data dir of its own."""
    first = create_app(_settings(loaded_settings, loaded_settings.data_dir))
    second = create_app(_settings(loaded_settings, tmp_path / "second"))
    with TestClient(first) as a, TestClient(second) as b:
        authorize(a)
        authorize(b)
        yield a, b


def _app(client: TestClient) -> FastAPI:
    assert isinstance(client.app, FastAPI)
    return client.app


def _caught_up(*clients: TestClient, timeout: float = 10.0) -> None:
    """Waits until every app's follower has applied the database's version."""
    deadline = time.monotonic() + timeout
    while True:
        versions = [client.get("/api/v1/admin/replication").json() for client in clients]
        if all(v["lag"]["versions"] == 0 for v in versions):
            return
        assert time.monotonic() < deadline, versions
        time.sleep(0.02)


def _equal_to_database(*clients: TestClient) -> None:
    _caught_up(*clients)
    with unit_of_work(_app(clients[0]).state.session_factory) as session:
        expected = database_digest(session)
    for client in clients:
        assert index_digest(_app(client).state.matcher) == expected
        assert client.get("/api/v1/admin/replication").json()["index_digest"] == expected


def test_a_write_through_one_process_reaches_the_other(replicas: tuple[TestClient, TestClient]) -> None:
    a, b = replicas
    company_id = a.get("/api/v1/companies").json()["items"][0]["id"]
    created = a.post("/api/v1/needs", json={"company_id": company_id, "title": "Deburring", "description": "By hand."})
    assert created.status_code == 201
    need_id = created.json()["id"]
    # Read-your-writes: the process that wrote has it before it answered.
    assert need_id in _app(a).state.matcher.catalogue.need_ids()

    technology = b.get("/api/v1/technologies").json()["items"][0]
    renamed = b.patch(f"/api/v1/technologies/{technology['id']}", json={"title": "Robot deburring cell"})
    assert renamed.status_code == 200
    provider_id = technology["provider_id"]
    assert a.patch(f"/api/v1/providers/{provider_id}", json={"name": "Renamed Robotics"}).status_code == 200
    assert b.delete(f"/api/v1/needs/{need_id}").status_code == 204
    _equal_to_database(a, b)
    assert need_id not in _app(a).state.matcher.catalogue.need_ids()
    record = _app(a).state.matcher.catalogue.technologies.records[technology["id"]]
    assert (record.title, record.provider_name) == ("Robot deburring cell", "Renamed Robotics")
    # Applied from stored vectors: the follower encoded nothing.
    assert b.get("/api/v1/admin/replication").json()["full_syncs"] == 0


def test_an_erasure_leaves_no_copy_in_any_process_or_saved_index(
    replicas: tuple[TestClient, TestClient], vector_backend: str
) -> None:
    a, b = replicas
    company = a.get("/api/v1/companies").json()["items"][0]
    need_ids = {n["id"] for n in a.get("/api/v1/needs", params={"company_id": company["id"]}).json()["items"]}
    assert need_ids
    assert a.delete(f"/api/v1/companies/{company['id']}").status_code == 204
    _equal_to_database(a, b)
    for client in (a, b):
        app = _app(client)
        assert not need_ids & app.state.matcher.catalogue.need_ids()
        if vector_backend != "faiss":
            continue  # pgvector: the vectors are rows of the one database, and need_ids() read them
        # The saved files of each process were rewritten without them.
        index_dir = app.state.settings.index_dir
        saved = VectorIndex.load(index_dir, name="needs", expected=VectorIndex.saved_meta(index_dir, name="needs"))
        assert not need_ids & set(saved.ids().tolist())


def test_a_learned_ranking_reaches_every_process(replicas: tuple[TestClient, TestClient]) -> None:
    a, b = replicas
    for need in a.get("/api/v1/needs", params={"limit": 100}).json()["items"]:
        items = a.post(f"/api/v1/needs/{need['id']}/matches", params={"k": 10}).json()["items"]
        with unit_of_work(_app(a).state.session_factory) as session:
            for item in items:
                status = MatchStatus.approved if item["components"]["taxonomy"] >= 0.5 else MatchStatus.rejected
                session.execute(
                    update(Match)
                    .where(Match.need_id == need["id"], Match.technology_id == item["technology_id"])
                    .values(status=status)
                )
    learned = a.post("/api/v1/admin/learn")
    assert learned.status_code == 201, learned.text
    weights = RankingWeights(**learned.json()["weights"])
    _caught_up(a, b)
    assert _app(a).state.matcher.weights == weights
    assert _app(b).state.matcher.weights == weights
    assert _app(b).state.matcher.calibration == _app(a).state.matcher.calibration


def test_a_restart_resumes_from_its_saved_index_through_the_log(
    loaded_settings: Settings, tmp_path: Path, vector_backend: str
) -> None:
    """The saved index is stamped with the version it reflects; changes made while a process was down are
    applied from the log at its start, without a full rebuild and without encoding."""
    settings_b = _settings(loaded_settings, tmp_path / "second")
    matcher, _ = counting_matcher()
    with TestClient(create_app(settings_b, matcher=matcher)):
        pass  # started once: its index saved in its own data dir
    with TestClient(create_app(_settings(loaded_settings, loaded_settings.data_dir))) as a:
        authorize(a)
        company_id = a.get("/api/v1/companies").json()["items"][0]["id"]
        for number in range(3):
            body = {"company_id": company_id, "title": f"Need {number}", "description": "Sorting parts."}
            assert a.post("/api/v1/needs", json=body).status_code == 201
        technology_id = a.get("/api/v1/technologies").json()["items"][0]["id"]
        assert a.delete(f"/api/v1/technologies/{technology_id}").status_code == 204
        matcher, encoder = counting_matcher()
        with TestClient(create_app(settings_b, matcher=matcher)) as b:
            authorize(b)
            sync = _app(b).state.index_sync
            assert sync.outcome == "loaded"
            if vector_backend == "faiss":
                # pgvector has no saved vectors to resume: its start checks the vector tables instead.
                assert sync.reason.startswith("resumed from version"), sync.reason
            assert encoder.texts_encoded == 0
            _equal_to_database(a, b)
            assert b.get("/api/v1/admin/replication").json()["full_syncs"] == 0


def test_a_log_pruned_past_a_process_is_answered_by_one_full_sync(replicas: tuple[TestClient, TestClient]) -> None:
    a, b = replicas
    follower: Follower = _app(b).state.follower
    follower.stop()  # as if it were away
    company_id = a.get("/api/v1/companies").json()["items"][0]["id"]
    for number in range(3):
        body = {"company_id": company_id, "title": f"Need {number}", "description": "Welding seams."}
        assert a.post("/api/v1/needs", json=body).status_code == 201
    with unit_of_work(_app(a).state.session_factory) as session:
        session.execute(delete(CatalogueChange))
    assert follower.catch_up() == _app(a).state.follower.applied
    assert follower.full_syncs == 1
    assert index_digest(_app(b).state.matcher) == index_digest(_app(a).state.matcher)
