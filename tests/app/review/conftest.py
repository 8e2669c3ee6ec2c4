"""The curator pages' test site: the loaded app with matches for every need and a curator, and how to sign in."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.core.database import unit_of_work
from app.models import Match, MatchStatus
from app.people import service as curators
from tests.app.support import authorize

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def curator(app: FastAPI, username: str = "mette", *, tenant: str = "default") -> None:
    with unit_of_work(app.state.session_factory) as session:
        curators.create_curator(session, username=username, password=PASSWORD, tenant=tenant)


def csrf(client: TestClient, path: str = "/review/login") -> str:
    found = _CSRF.search(client.get(path).text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: TestClient, username: str = "mette", password: str = PASSWORD) -> None:
    response = client.post(
        "/review/login",
        data={"username": username, "password": password, "csrf_token": csrf(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/review"


def status(app: FastAPI, match_id: int) -> MatchStatus:
    with unit_of_work(app.state.session_factory) as session:
        match = session.get(Match, match_id)
        assert match is not None
        return match.status


@pytest.fixture
def site(loaded_app: FastAPI) -> Iterator[TestClient]:
    """The loaded app with matches computed for every need and a curator 'mette', nobody signed in."""
    with TestClient(loaded_app) as client:
        key = authorize(client)
        for need in client.get("/api/v1/needs", params={"limit": 100}).json()["items"]:
            client.post(f"/api/v1/needs/{need['id']}/matches", params={"k": 4})
        del client.headers["Authorization"]
        client.headers["X-Test-Key"] = key  # kept for tests that need the API
        curator(loaded_app)
        yield client


def proposed_ids(app: FastAPI) -> list[int]:
    with unit_of_work(app.state.session_factory) as session:
        query = select(Match.id).where(Match.status == MatchStatus.proposed).order_by(Match.score.desc(), Match.id)
        return list(session.scalars(query))
