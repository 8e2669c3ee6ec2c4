"""Walks every page route with every role and nobody signed in; the role matrix in docs/people.md must agree.

Like tests/app/core/test_auth_routes.py does for API scopes: every page route must declare who may
open it (require_roles or public_page, app/web/security.py), so a new page without a declaration
fails here, and one whose declaration is not in the documented matrix fails too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from app.models import Role
from app.web.security import ANONYMOUS, AUDIENCES, PageRoute, page_routes
from tests.app.people.conftest import PASSWORD, Cast, csrf, sign_in

DOCS = Path(__file__).resolve().parents[3] / "docs" / "people.md"
# Routes outside the API that are not web pages (probes, the API's own documentation);
# tests/app/core/test_auth_routes.py reviews them.
NOT_PAGES = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/docs"), ("GET", "/redoc")}
# Routes that end the session they are called with: the walk signs in again after them.
SIGN_OUT = {"/logout", "/review/logout"}
_ROW = re.compile(r"^\|\s*`(GET|POST|PUT|PATCH|DELETE|OPTIONS) ([^`]+)`\s*\|(.+)\|\s*$")


def _pages(app: FastAPI) -> list[PageRoute]:
    return [route for route in page_routes(app) if (route.method, route.path) not in NOT_PAGES]


def _url(path: str, cast: Cast) -> str:
    # Each role's own company and provider, so a refusal is the role's, never the scoping's (tested apart).
    values = {"company_id": cast.company_id, "provider_id": cast.provider_id, "token": "not-a-token"}
    return re.sub(r"\{([^}]+)\}", lambda m: str(values.get(m.group(1), 1)), path)


def _documented() -> dict[tuple[str, str], frozenset[str]]:
    """The role matrix of docs/people.md: (method, path) -> who may open it."""
    lines = DOCS.read_text(encoding="utf-8").splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| page |"))
    columns = [cell.strip() for cell in lines[header].strip("|").split("|")][1:]
    assert columns == list(AUDIENCES), f"the matrix's columns must be {AUDIENCES}"
    matrix: dict[tuple[str, str], frozenset[str]] = {}
    for line in lines[header + 2 :]:
        found = _ROW.match(line)
        if found is None:
            break
        cells = [cell.strip() for cell in found.group(3).split("|")]
        assert set(cells) <= {"✓", "–"}, line
        matrix[(found.group(1), found.group(2))] = frozenset(
            c for c, cell in zip(columns, cells, strict=True) if cell == "✓"
        )
    return matrix


def test_every_page_route_declares_who_may_open_it(app: FastAPI) -> None:
    undeclared = sorted((r.method, r.path) for r in _pages(app) if r.audience is None)
    assert undeclared == [], "name require_roles(...) or public_page in these routes (app/web/security.py)"
    # Guards the walk itself: if routes were listed differently, the walk below would pass on nothing.
    declared = {(r.method, r.path) for r in _pages(app)}
    assert {("GET", "/review"), ("GET", "/sme"), ("GET", "/provider"), ("GET", "/facilitator")} <= declared
    assert len(declared) >= 20


def test_the_documented_matrix_is_the_code(app: FastAPI) -> None:
    code = {(r.method, r.path): r.audience for r in _pages(app)}
    assert _documented() == code


def _send(client: TestClient, route: PageRoute, cast: Cast, token: str) -> Response:
    url = _url(route.path, cast)
    if route.method == "GET":
        return client.get(url, follow_redirects=False)
    return client.request(route.method, url, data={"csrf_token": token}, follow_redirects=False)


def _sent_to_sign_in(route: PageRoute, response: Response) -> bool:
    """The sign-in redirect of app/web/install.py: a GET comes back to itself after sign-in, a form does not."""
    if response.status_code != 303:
        return False
    location = response.headers["location"]
    return location.startswith("/login?next=") if route.method == "GET" else location == "/login"


@pytest.mark.parametrize("who", AUDIENCES)
def test_walk_every_page_as(who: str, loaded_app: FastAPI, cast: Cast, web: TestClient) -> None:
    """Nobody signed in is sent to sign in; a role not listed gets the 403 page; a listed one gets through."""
    signed_in = who != ANONYMOUS
    if signed_in:
        assert sign_in(web, cast.usernames[Role(who)]).status_code == 303
    token = csrf(web, "/account" if signed_in else "/login")
    wrong = []
    for route in _pages(loaded_app):
        response = _send(web, route, cast, token)
        allowed = who in (route.audience or ())
        if not allowed and not signed_in:
            ok = _sent_to_sign_in(route, response)
        elif not allowed:
            ok = response.status_code == 403 and "not for your role" in response.text
        elif route.path in SIGN_OUT:
            ok = _sent_to_sign_in(route, response)
            assert sign_in(web, cast.usernames[Role(who)], PASSWORD).status_code == 303
            token = csrf(web, "/account")
        else:
            ok = response.status_code != 403 and not _sent_to_sign_in(route, response)
        if not ok:
            wrong.append((route.method, route.path, response.status_code, response.headers.get("location")))
    assert wrong == []
