"""Walks every route of the app: each /api/v1 route needs a key and its scope; every other route is reviewed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from app.core.auth import SCOPES, get_principal
from app.keys.scopes import ADMIN_SCOPE
from app.keys.service import revoke_key
from app.web.security import page_routes
from tests.app.support import create_api_key

API_PREFIX = "/api/v1"

# /api/v1 routes that any valid key may call, whatever its scopes: reading the technology catalogue.
# A route missing from here that asks for no scope fails test_every_api_route_names_its_scope.
ANY_KEY_ROUTES = {
    ("GET", "/api/v1/providers"),
    ("GET", "/api/v1/providers/{provider_id}"),
    ("GET", "/api/v1/technologies"),
    ("GET", "/api/v1/technologies/{technology_id}"),
    ("GET", "/api/v1/exports/providers"),
    ("GET", "/api/v1/exports/technologies"),
    # A job answers to the scope of its kind (a plan to pairing, learning to admin), checked per job.
    ("GET", "/api/v1/jobs"),
    ("GET", "/api/v1/jobs/{job_id}"),
}

# Every route outside /api/v1 that is not a web page, reviewed: what an anonymous request gets. A new
# route fails the walk until it is added here with the answer it gives a caller without credentials,
# or declares who may open it as a page (app/web/security.py), which tests/app/people/test_page_roles.py
# walks with every role.
PUBLIC = {200}
REVIEWED_ROUTES: dict[tuple[str, str], set[int]] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
}
# Mounted apps (static files): served to anyone, and they hold no data.
REVIEWED_MOUNTS = {"/static", "/docs/assets"}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    scopes: tuple[str, ...] | None  # None: no scope asked (any key); () is impossible by construction
    authenticated: bool

    def url(self) -> str:
        # Every path parameter of ours is an id; 1 reaches the route (which may then 404).
        return re.sub(r"\{[^}]+\}", "1", self.path)


def _calls(dependant: object) -> Iterator[object]:
    for dependency in getattr(dependant, "dependencies", []):
        yield dependency.call
        yield from _calls(dependency)


def _endpoints(app: FastAPI) -> list[Endpoint]:
    found = []
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        calls = list(_calls(context.dependant))
        asked = [scope for call in calls for scope in getattr(call, "required_scopes", ())]
        for method in sorted(context.methods or ()):
            found.append(
                Endpoint(
                    method=method,
                    path=context.path,
                    scopes=tuple(dict.fromkeys(asked)) or None,
                    authenticated=get_principal in calls,
                )
            )
    return found


def _mounts(app: FastAPI) -> set[str]:
    return {
        context.path
        for context in iter_route_contexts(app.routes)
        if not isinstance(context.original_route, APIRoute) and context.methods is None
    }


def _api(app: FastAPI) -> list[Endpoint]:
    return [e for e in _endpoints(app) if e.path.startswith(API_PREFIX)]


def _send(client: TestClient, endpoint: Endpoint, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    body = {} if endpoint.method in {"POST", "PATCH", "PUT"} else None
    return client.request(endpoint.method, endpoint.url(), json=body, headers=headers or {})


def test_the_walk_sees_the_api(app: FastAPI) -> None:
    # Guards the walk itself: if FastAPI changed how routes are listed, the other tests would pass on nothing.
    endpoints = {(e.method, e.path) for e in _api(app)}
    assert ("POST", "/api/v1/needs") in endpoints
    assert ("GET", "/api/v1/needs/{need_id}/matches") in endpoints
    assert len(endpoints) >= 30


def test_every_api_route_names_its_scope(app: FastAPI) -> None:
    unscoped = sorted(
        (e.method, e.path) for e in _api(app) if e.scopes is None and (e.method, e.path) not in ANY_KEY_ROUTES
    )
    assert unscoped == [], "add require_scope(...) to these routes, or list them in ANY_KEY_ROUTES"
    assert all(e.authenticated for e in _api(app))


def test_every_api_route_refuses_a_request_without_a_valid_key(client: TestClient, app: FastAPI) -> None:
    revoked = create_api_key(app, scopes=(ADMIN_SCOPE,))
    with app.state.session_factory() as session, session.begin():
        revoke_key(session, prefix=revoked)
    candidates = {
        "none": {"Authorization": ""},
        "garbage": {"Authorization": "Bearer not-a-key"},
        "wrong secret": {"Authorization": f"Bearer {revoked[:-4]}AAAA"},
        "revoked": {"Authorization": f"Bearer {revoked}"},
        "revoked in X-API-Key": {"Authorization": "", "X-API-Key": revoked},
    }
    failures = []
    for endpoint in _api(app):
        for what, headers in candidates.items():
            response = _send(client, endpoint, headers)
            if response.status_code != 401 or response.json()["type"] != "/problems/unauthorized":
                failures.append((endpoint.method, endpoint.path, what, response.status_code))
            elif response.headers.get("www-authenticate", "").split()[0] != "Bearer":
                failures.append((endpoint.method, endpoint.path, what, "no WWW-Authenticate"))
    assert failures == []


def test_every_scoped_route_refuses_a_key_without_its_scope(client: TestClient, app: FastAPI) -> None:
    failures = []
    for endpoint in _api(app):
        if endpoint.scopes is None:
            continue
        others = [s for s in SCOPES if s not in endpoint.scopes and s != ADMIN_SCOPE]
        key = create_api_key(app, scopes=others) if others else None
        # A key must have a scope; a route that every non-admin scope reaches is its own finding.
        assert key is not None, f"{endpoint.method} {endpoint.path} accepts every scope"
        response = _send(client, endpoint, {"Authorization": f"Bearer {key}"})
        if response.status_code != 403 or response.json()["type"] != "/problems/forbidden":
            failures.append((endpoint.method, endpoint.path, endpoint.scopes, response.status_code))
    assert failures == []


@pytest.mark.parametrize("header", ["Authorization", "X-API-Key"])
def test_a_key_with_the_scope_gets_through(client: TestClient, app: FastAPI, header: str) -> None:
    # The same walk with the right scope must pass auth: anything but 401/403 (often 404 on id 1, or 422).
    failures = []
    for endpoint in _api(app):
        scopes = list(endpoint.scopes or ("matches:read",))[:1]
        key = create_api_key(app, scopes=scopes)
        value = f"Bearer {key}" if header == "Authorization" else key
        headers = {"Authorization": ""} | {header: value}
        response = _send(client, endpoint, headers)
        if response.status_code in {401, 403}:
            failures.append((endpoint.method, endpoint.path, scopes, response.status_code, response.text[:200]))
    assert failures == []


def test_every_other_route_is_reviewed(client: TestClient, app: FastAPI) -> None:
    pages = {(r.method, r.path) for r in page_routes(app) if r.audience is not None}
    others = [e for e in _endpoints(app) if not e.path.startswith(API_PREFIX) and (e.method, e.path) not in pages]
    unreviewed = sorted({(e.method, e.path) for e in others} - set(REVIEWED_ROUTES))
    assert unreviewed == [], "add these routes to REVIEWED_ROUTES with what an anonymous caller gets"
    assert _mounts(app) <= REVIEWED_MOUNTS
    anonymous = TestClient(app, follow_redirects=False)
    wrong = []
    for endpoint in others:
        response = _send(anonymous, endpoint, {"Authorization": ""})
        if response.status_code not in REVIEWED_ROUTES[(endpoint.method, endpoint.path)]:
            wrong.append((endpoint.method, endpoint.path, response.status_code))
    assert wrong == []
