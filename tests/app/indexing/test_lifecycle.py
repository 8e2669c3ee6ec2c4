"""Readiness, and the index at start-up: loaded when it agrees, rebuilt without re-encoding when not."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.after_commit import after_commit
from app.core.database import unit_of_work
from app.core.settings import Settings
from app.indexing.state import CatalogueStateRepository
from app.main import create_app
from app.models import Company, Need
from matching.matcher import Matcher
from tests.app.support import authorize, counting_matcher, faiss_files, started_app


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_green_after_start(loaded_client: TestClient) -> None:
    response = loaded_client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "model": "hashing",
        "technologies": 10,
        "needs": 8,
        "lag": {"versions": 0, "seconds": 0.0},
    }


def test_readyz_red_when_index_disagrees(loaded_client: TestClient, loaded_app: FastAPI) -> None:
    matcher: Matcher = loaded_app.state.matcher
    matcher.catalogue.remove_technologies([next(iter(matcher.catalogue.technology_ids()))])
    response = loaded_client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["errors"][0]["location"] == ["index", "technologies"]
    assert "disagree on technologies" in body["detail"]
    assert "9" not in body["detail"] and "10" not in body["detail"]


def test_readyz_tells_counts_only_to_a_key_and_only_its_tenants(loaded_client: TestClient) -> None:
    anonymous = loaded_client.get("/readyz", headers={"Authorization": ""})
    assert anonymous.status_code == 200
    assert anonymous.json() == {"status": "ready"}
    invalid = loaded_client.get("/readyz", headers={"Authorization": "Bearer tm_not_a_key"})
    assert invalid.json() == {"status": "ready"}
    authorize(loaded_client, tenant="other", scopes=("matches:read",))
    # The shared catalogue's technologies, and none of the default tenant's needs.
    assert loaded_client.get("/readyz").json() == {
        "status": "ready",
        "model": "hashing",
        "technologies": 10,
        "needs": 0,
        "lag": {"versions": 0, "seconds": 0.0},
    }


def test_readyz_red_without_matcher(client: TestClient, app: FastAPI) -> None:
    app.state.matcher = None
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "not loaded" in response.json()["detail"]
    # Routes that need the engine say so too, instead of failing.
    assert client.post("/api/v1/match", json={"text": "x"}).status_code == 503


def test_restart_with_unchanged_database_does_not_encode(loaded_settings: Settings) -> None:
    matcher, encoder = counting_matcher()
    app = started_app(loaded_settings, matcher)
    assert app.state.index_sync.outcome == "loaded"
    assert encoder.texts_encoded == 0

    matcher, encoder = counting_matcher()
    assert started_app(loaded_settings, matcher).state.index_sync.outcome == "loaded"
    assert encoder.texts_encoded == 0


@faiss_files
@pytest.mark.parametrize("damage", ["delete", "corrupt", "truncate-meta"])
def test_damaged_index_is_rebuilt_from_stored_embeddings(loaded_settings: Settings, damage: str) -> None:
    files = sorted(loaded_settings.index_dir.iterdir())
    assert files
    for path in files:
        if damage == "delete":
            path.unlink()
        elif damage == "corrupt" and path.suffix == ".faiss":
            path.write_bytes(b"\x00garbage" * 10)
        elif damage == "truncate-meta" and path.name.endswith(".meta.json"):
            path.write_text("{", encoding="utf-8")

    matcher, encoder = counting_matcher()
    app = started_app(loaded_settings, matcher)
    assert app.state.index_sync.outcome == "rebuilt"
    assert encoder.texts_encoded == 0  # every vector came from the embeddings table
    assert matcher.catalogue.technology_count == 10 and matcher.catalogue.need_count == 8

    # The rebuilt index was saved: the next start loads it.
    matcher, encoder = counting_matcher()
    assert started_app(loaded_settings, matcher).state.index_sync.outcome == "loaded"


def test_writes_while_running_are_saved_at_shutdown(loaded_settings: Settings) -> None:
    matcher, _ = counting_matcher()
    with TestClient(create_app(loaded_settings, matcher=matcher)) as client:
        authorize(client)
        provider_id = client.get("/api/v1/providers").json()["items"][0]["id"]
        response = client.post(
            "/api/v1/technologies",
            json={"provider_id": provider_id, "title": "Laser marking", "description": "Marks parts."},
        )
        assert response.status_code == 201

    matcher, encoder = counting_matcher()
    app = started_app(loaded_settings, matcher)
    assert app.state.index_sync.outcome == "loaded"
    assert matcher.catalogue.technology_count == 11
    assert encoder.texts_encoded == 0


def test_index_missed_writes_are_repaired_at_start(loaded_settings: Settings, loaded_app: FastAPI) -> None:
    """A write the index never saw (a crash before shutdown) is caught by the catalogue version."""
    with unit_of_work(loaded_app.state.session_factory) as session:
        company = session.scalars(select(Company).limit(1)).one()
        session.add(Need(company_id=company.id, title="Noisy compressor", description="Loud."))
        CatalogueStateRepository(session).bump()

    matcher, encoder = counting_matcher()
    app = started_app(loaded_settings, matcher)
    assert app.state.index_sync.outcome == "rebuilt"
    assert matcher.catalogue.need_count == 9
    assert encoder.texts_encoded == 1  # only the new need's text


def test_index_changes_wait_for_commit(loaded_app: FastAPI) -> None:
    ran: list[str] = []
    factory = loaded_app.state.session_factory

    session: Session = factory()
    after_commit(session, lambda: ran.append("rolled back"))
    session.rollback()
    session.commit()
    session.close()

    with unit_of_work(factory) as session:
        after_commit(session, lambda: ran.append("committed"))
        assert ran == []
    assert ran == ["committed"]
