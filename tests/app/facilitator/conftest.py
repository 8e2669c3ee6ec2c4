"""Facilitator page fixtures: the mini catalogue with one person per role, and a signed-in facilitator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.models import Role
from tests.app.people.conftest import Cast, create_cast, sign_in


@pytest.fixture
def cast(loaded_app: FastAPI) -> Cast:
    return create_cast(loaded_app)


@pytest.fixture
def web(loaded_app: FastAPI, cast: Cast) -> Iterator[TestClient]:
    """A started client with nobody signed in."""
    with TestClient(loaded_app) as client:
        yield client


@pytest.fixture
def facilitator(web: TestClient, cast: Cast) -> TestClient:
    assert sign_in(web, cast.usernames[Role.facilitator]).status_code == 303
    return web
