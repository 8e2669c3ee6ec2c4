"""API keys: stored as a hash, shown once, scoped, revocable; the keys CLI."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import cli
from app.core.errors import ValidationProblem
from app.core.settings import Settings
from app.keys.service import authenticate, create_key, parse_scopes, revoke_key
from app.models import ApiKey
from tests.app.support import create_api_key


def _rows(app: FastAPI) -> list[ApiKey]:
    with app.state.session_factory() as session:
        return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def test_only_a_hash_and_a_prefix_are_stored(client: TestClient, app: FastAPI) -> None:
    key = create_api_key(app, tenant="north", scopes=("needs:write",))
    row = _rows(app)[-1]
    assert key.startswith(f"tm_{row.prefix}_")
    assert len(key) > 50
    assert row.hash == hashlib.sha256(key.encode()).hexdigest()
    stored = " ".join(str(value) for value in vars(row).values())
    assert key.split("_", 2)[2] not in stored
    assert (row.tenant, row.scopes, row.revoked_at) == ("north", ["needs:write"], None)


def test_two_keys_differ(client: TestClient, app: FastAPI) -> None:
    assert create_api_key(app) != create_api_key(app)


def test_scopes_are_checked_and_normalised() -> None:
    assert parse_scopes(["matches:read", " needs:write", "matches:read"]) == ["needs:write", "matches:read"]
    with pytest.raises(ValidationProblem, match="unknown scope"):
        parse_scopes(["needs:write", "everything"])
    with pytest.raises(ValidationProblem, match="at least one"):
        parse_scopes([""])


def test_authenticate_refuses_near_misses(client: TestClient, app: FastAPI) -> None:
    key = create_api_key(app)
    prefix = key.split("_")[1]
    with app.state.session_factory() as session:
        assert authenticate(session, presented=key) is not None
        for wrong in (key[:-1] + ("A" if key[-1] != "A" else "B"), key + "x", key.upper(), prefix, "", "tm__x"):
            assert authenticate(session, presented=wrong) is None, wrong


def test_last_used_is_recorded_at_a_coarse_grain(client: TestClient, app: FastAPI) -> None:
    key = create_api_key(app, scopes=("matches:read",))
    assert _rows(app)[-1].last_used_at is None
    assert client.get("/api/v1/technologies", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    first = _rows(app)[-1].last_used_at
    assert first is not None
    with app.state.session_factory() as session, session.begin():
        # Within the resolution no write happens; after it, one does.
        assert authenticate(session, presented=key, now=first + timedelta(seconds=5)).last_used_at == first
        later = first + timedelta(minutes=2)
        assert authenticate(session, presented=key, now=later).last_used_at == later


def test_revoked_key_is_refused_at_once(client: TestClient, app: FastAPI) -> None:
    key = create_api_key(app, scopes=("matches:read",))
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/technologies", headers=headers).status_code == 200
    with app.state.session_factory() as session, session.begin():
        revoke_key(session, prefix=key.split("_")[1])
    response = client.get("/api/v1/technologies", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert "revoked" in response.json()["detail"]


def test_admin_implies_every_scope_and_a_scope_admits_only_its_routes(client: TestClient, app: FastAPI) -> None:
    reader = {"Authorization": f"Bearer {create_api_key(app, scopes=('matches:read',))}"}
    writer = {"Authorization": f"Bearer {create_api_key(app, scopes=('catalogue:write',))}"}
    provider = {"name": "Fjord Robotics ApS", "country": "DK"}
    assert client.post("/api/v1/providers", json=provider, headers=reader).status_code == 403
    assert client.post("/api/v1/providers", json=provider, headers=writer).status_code == 201
    # The default client holds an admin key.
    assert client.post("/api/v1/providers", json=provider | {"name": "B"}).status_code == 201
    assert client.post("/api/v1/needs", json={}, headers=writer).status_code == 403


def test_bearer_scheme_is_case_insensitive_and_x_api_key_works(client: TestClient, app: FastAPI) -> None:
    key = create_api_key(app, scopes=("matches:read",))
    for headers in ({"Authorization": f"bearer {key}"}, {"Authorization": "", "X-API-Key": key}):
        assert client.get("/api/v1/technologies", headers=headers).status_code == 200


def test_a_tenant_must_be_a_slug(client: TestClient, app: FastAPI) -> None:
    with app.state.session_factory() as session, pytest.raises(ValidationProblem, match="slug"):
        create_key(session, tenant="Nordic Cluster", scopes=["admin"])


# The CLI, as an administrator uses it.


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Settings:
    monkeypatch.setenv("TECHMATCH_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TECHMATCH_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("TECHMATCH_MODEL", settings.model)
    return settings


def test_cli_create_list_revoke(cli_env: Settings) -> None:
    runner = CliRunner()
    created = runner.invoke(
        cli, ["keys", "create", "--tenant", "north", "--scopes", "needs:write,matches:read", "--name", "web"]
    )
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("tm_") and " " not in key
    prefix = key.split("_")[1]

    listed = runner.invoke(cli, ["keys", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout.strip().splitlines()[-1])["keys"]
    assert [(r["prefix"], r["tenant"], r["name"], r["scopes"], r["revoked_at"]) for r in rows] == [
        (prefix, "north", "web", ["needs:write", "matches:read"], None)
    ]
    assert key not in listed.stdout

    revoked = runner.invoke(cli, ["keys", "revoke", prefix])
    assert revoked.exit_code == 0, revoked.output
    rows = json.loads(runner.invoke(cli, ["keys", "list", "--json"]).stdout.strip().splitlines()[-1])["keys"]
    assert rows[0]["revoked_at"] is not None


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["keys", "create", "--tenant", "north", "--scopes", "needs:write,root"], "unknown scope"),
        (["keys", "create", "--tenant", "North!", "--scopes", "admin"], "slug"),
        (["keys", "create", "--tenant", "n", "--scopes", "admin", "--rate-limit", "lots"], "rate limit"),
        (["keys", "revoke", "0123456789ab"], "no API key"),
    ],
)
def test_cli_refuses_bad_input_with_one_line(cli_env: Settings, arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
