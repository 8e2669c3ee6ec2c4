"""People fixtures: the mini catalogue with one person of each role, and signing in over HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.core.database import unit_of_work
from app.models import Company, Provider, Role
from app.people import service as people

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


@dataclass(frozen=True)
class Cast:
    """Usernames of one person per role (tenant default) and the ids the members are bound to."""

    company_id: int
    other_company_id: int
    provider_id: int
    other_provider_id: int
    north_company_id: int
    usernames: dict[Role, str]


def create_cast(app: FastAPI) -> Cast:
    with unit_of_work(app.state.session_factory) as session:
        companies = list(session.scalars(select(Company).where(Company.tenant == "default").order_by(Company.id)))
        providers = list(session.scalars(select(Provider).where(Provider.tenant == "default").order_by(Provider.id)))
        north = Company(tenant="north", name="North Fabrication A/S")
        session.add(north)
        session.flush()
        usernames = {Role.curator: "cora", Role.facilitator: "fay", Role.sme: "sam", Role.provider: "pia"}
        for role, username in usernames.items():
            people.create_person(
                session,
                username=username,
                password=PASSWORD,
                role=role,
                tenant="default",
                company_id=companies[0].id if role is Role.sme else None,
                provider_id=providers[0].id if role is Role.provider else None,
            )
        return Cast(
            company_id=companies[0].id,
            other_company_id=companies[1].id,
            provider_id=providers[0].id,
            other_provider_id=providers[1].id,
            north_company_id=north.id,
            usernames=usernames,
        )


def csrf(client: TestClient, path: str = "/login") -> str:
    found = _CSRF.search(client.get(path).text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD, *, next: str | None = None):  # type: ignore[no-untyped-def]
    data = {"username": username, "password": password, "csrf_token": csrf(client)}
    if next is not None:
        data["next"] = next
    return client.post("/login", data=data, follow_redirects=False)


@pytest.fixture
def cast(loaded_app: FastAPI) -> Cast:
    return create_cast(loaded_app)


@pytest.fixture
def web(loaded_app: FastAPI, cast: Cast) -> Iterator[TestClient]:
    """A started client with nobody signed in."""
    with TestClient(loaded_app) as client:
        yield client
