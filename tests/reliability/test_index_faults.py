"""Index faults: damaged or stale index files are rebuilt from stored embeddings; rebuilds while serving."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete

import app.main as app_main
from app.catalogue.repository import NeedRepository, TechnologyRepository
from app.core.database import create_db_engine, unit_of_work
from app.core.errors import Conflict
from app.core.settings import Settings
from app.indexing.service import IndexRebuilder
from app.main import create_app
from app.models import CatalogueChange
from matching.matcher import Matcher
from tests.app.support import authorize, counting_matcher


def _truncate(index_dir: Path) -> None:
    for path in index_dir.glob("*.faiss"):
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])


def _missing(index_dir: Path) -> None:
    for path in index_dir.glob("technologies.*"):
        path.unlink()


def _edit_meta(**changes: object) -> Callable[[Path], None]:
    def edit(index_dir: Path) -> None:
        for path in index_dir.glob("*.meta.json"):
            meta = json.loads(path.read_text("utf-8"))
            meta.update(changes)
            path.write_text(json.dumps(meta), encoding="utf-8")

    return edit


def _older_catalogue(index_dir: Path) -> None:
    for path in index_dir.glob("*.meta.json"):
        meta = json.loads(path.read_text("utf-8"))
        meta["catalogue_version"] -= 1
        path.write_text(json.dumps(meta), encoding="utf-8")


def _empty_files(index_dir: Path) -> None:
    for path in index_dir.iterdir():
        path.write_bytes(b"")


FAULTS: dict[str, Callable[[Path], None]] = {
    "missing": _missing,
    "truncated": _truncate,
    "empty-files": _empty_files,
    "foreign-model": _edit_meta(model="sentence-transformers/other-model"),
    "foreign-dimension": _edit_meta(dimension=768),
    "older-catalogue-version": _older_catalogue,
    "older-format": _edit_meta(format_version=0),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_faulty_index_is_detected_and_rebuilt_without_encoding(loaded_settings: Settings, fault: str) -> None:
    FAULTS[fault](loaded_settings.index_dir)
    if fault == "older-catalogue-version":
        # With the change since that version still in the log, the start resumes from the saved index
        # (tests/app/replication); pruned past it, the index cannot be trusted and is rebuilt.
        engine = create_db_engine(loaded_settings.database_url)
        with engine.begin() as connection:
            connection.execute(delete(CatalogueChange))
        engine.dispose()
    matcher, encoder = counting_matcher()
    app = create_app(loaded_settings, matcher=matcher)
    with TestClient(app) as client:
        assert app.state.index_sync.outcome == "rebuilt"
        assert app.state.index_sync.reason  # says what was wrong
        assert client.get("/readyz").status_code == 200
    assert encoder.texts_encoded == 0  # every vector came from the embeddings table
    with unit_of_work(app.state.session_factory) as session:
        assert matcher.catalogue.technology_ids() == {row.id for row in TechnologyRepository(session).all()}
        assert matcher.catalogue.need_ids() == {row.id for row in NeedRepository(session).all()}

    # The rebuilt index was saved: the next start loads it as it is.
    matcher, encoder = counting_matcher()
    again = create_app(loaded_settings, matcher=matcher)
    with TestClient(again):
        assert again.state.index_sync.outcome == "loaded"


def test_readyz_is_red_until_the_index_is_ready(loaded_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    _truncate(loaded_settings.index_dir)
    release = threading.Event()
    real_start = app_main.reembed  # the start-up's model check and index sync

    def held_start(*args: object, **kwargs: object) -> object:
        assert release.wait(30), "the test never released the start-up"
        return real_start(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(app_main, "reembed", held_start)
    settings = loaded_settings.model_copy(update={"background_start": True})
    matcher, encoder = counting_matcher()
    app = create_app(settings, matcher=matcher)
    with TestClient(app) as client:
        authorize(client)
        assert client.get("/healthz").status_code == 200
        red = client.get("/readyz")
        assert red.status_code == 503
        assert red.headers["content-type"] == "application/problem+json"
        assert red.json()["errors"][0]["location"] == ["model"]
        # Routes that need the index refuse rather than answer from nothing.
        assert client.post("/api/v1/match", json={"text": "welding robot"}).status_code == 503
        release.set()
        for _ in range(300):
            ready = client.get("/readyz")
            if ready.status_code == 200:
                break
            threading.Event().wait(0.05)
        assert ready.status_code == 200, ready.text
        assert app.state.index_sync.outcome == "rebuilt"
        assert encoder.texts_encoded == 0  # rebuilt from stored embeddings
        assert client.post("/api/v1/match", json={"text": "welding robot"}).status_code == 200


def test_failed_start_keeps_readyz_red_with_the_reason(
    loaded_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_start(*_args: object, **_kwargs: object) -> object:
        raise OSError("index directory is not writable")

    monkeypatch.setattr(app_main, "reembed", broken_start)
    settings = loaded_settings.model_copy(update={"background_start": True})
    app = create_app(settings, matcher=counting_matcher()[0])
    with TestClient(app) as client:
        for _ in range(200):
            if app.state.start_error:
                break
            threading.Event().wait(0.02)
        response = client.get("/readyz")
        assert response.status_code == 503
        # Anyone learns that start-up failed; why (a path, an exception) only a key's holder.
        assert response.json()["detail"] == "not ready: start-up failed"
        authorize(client)
        assert "not writable" in client.get("/readyz").json()["detail"]
        assert client.get("/healthz").status_code == 200


def test_a_rebuild_reports_only_the_callers_counts(loaded_client: TestClient) -> None:
    authorize(loaded_client, tenant="other")
    body = loaded_client.post("/api/v1/admin/index/rebuild").json()
    # The shared catalogue, and none of the default tenant's 8 needs.
    assert (body["technologies"], body["needs"]) == (10, 0)


def _ids(app: FastAPI) -> tuple[set[int], set[int]]:
    with unit_of_work(app.state.session_factory) as session:
        return (
            {row.id for row in TechnologyRepository(session).all()},
            {row.id for row in NeedRepository(session).all()},
        )


def test_rebuild_endpoint_rebuilds_and_saves(loaded_client: TestClient, loaded_app: FastAPI) -> None:
    matcher: Matcher = loaded_app.state.matcher
    matcher.catalogue.remove_technologies([next(iter(matcher.catalogue.technology_ids()))])
    assert loaded_client.get("/readyz").status_code == 503
    response = loaded_client.post("/api/v1/admin/index/rebuild")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["technologies"] == 10 and body["needs"] == 8 and body["saved"] is True
    assert loaded_client.get("/readyz").status_code == 200
    assert (matcher.catalogue.technology_ids(), matcher.catalogue.need_ids()) == _ids(loaded_app)


def test_a_second_concurrent_rebuild_is_refused(loaded_client: TestClient, loaded_app: FastAPI) -> None:
    rebuilder: IndexRebuilder = loaded_app.state.index_rebuilder
    rebuilder._running.acquire()  # as if a rebuild were under way
    try:
        response = loaded_client.post("/api/v1/admin/index/rebuild")
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
        with pytest.raises(Conflict):
            rebuilder.rebuild(
                loaded_app.state.session_factory,
                matcher=loaded_app.state.matcher,
                index_dir=loaded_app.state.settings.index_dir,
            )
    finally:
        rebuilder._running.release()


@pytest.fixture
def busy_client(loaded_settings: Settings) -> Iterator[TestClient]:
    """The loaded app without a rate limit worth the name: these tests send thousands of requests."""
    app = create_app(loaded_settings.model_copy(update={"rate_limit": "1000000/minute"}))
    with TestClient(app) as client:
        authorize(client)
        yield client


def test_rebuilds_while_serving_swap_atomically(busy_client: TestClient) -> None:
    """Queries and writes run in threads while the index is rebuilt again and again."""
    loaded_client = busy_client
    loaded_app = busy_client.app
    assert isinstance(loaded_app, FastAPI)
    stop = threading.Event()
    failures: list[str] = []
    answered = {"queries": 0, "writes": 0}
    company_id = loaded_client.get("/api/v1/companies").json()["items"][0]["id"]

    def query() -> None:
        while not stop.is_set():
            response = loaded_client.post("/api/v1/match", json={"text": "robot welding of small batches", "k": 5})
            if response.status_code != 200 or not response.json()["items"]:
                failures.append(f"query: {response.status_code} {response.text[:200]}")
            answered["queries"] += 1

    def write() -> None:
        number = 0
        while not stop.is_set():
            number += 1
            response = loaded_client.post(
                "/api/v1/needs",
                json={"company_id": company_id, "title": f"Need {number}", "description": "Sorting parts by hand."},
            )
            if response.status_code != 201:
                failures.append(f"write: {response.status_code} {response.text[:200]}")
            answered["writes"] += 1

    threads = [threading.Thread(target=query) for _ in range(3)] + [threading.Thread(target=write)]
    for thread in threads:
        thread.start()
    try:
        rebuilds, deadline = 0, time.monotonic() + 30
        while (rebuilds < 10 or answered["queries"] < 30 or answered["writes"] < 10) and time.monotonic() < deadline:
            response = loaded_client.post("/api/v1/admin/index/rebuild")
            assert response.status_code == 200, response.text
            rebuilds += 1
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert failures == []
    assert rebuilds >= 10 and answered["queries"] >= 30 and answered["writes"] >= 10
    # Nothing written during the rebuilds was lost by a swap.
    matcher: Matcher = loaded_app.state.matcher
    assert (matcher.catalogue.technology_ids(), matcher.catalogue.need_ids()) == _ids(loaded_app)
    assert loaded_client.get("/readyz").status_code == 200
