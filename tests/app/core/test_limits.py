"""Limits an integrator meets: rate limit per key (429), body size (413), CORS origins, cursor pagination."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core.paging import encode_cursor
from app.core.settings import Settings
from app.keys.service import create_key
from app.main import create_app
from tests.app.support import authorize, create_api_key


@pytest.fixture
def limited(settings: Settings) -> Iterator[tuple[TestClient, FastAPI]]:
    app = create_app(
        settings.model_copy(
            update={"rate_limit": "3/minute", "max_body_bytes": 2048, "cors_origins": ["https://cluster.example"]}
        )
    )
    with TestClient(app) as client:
        yield client, app


def test_rate_limit_is_per_key_with_retry_after(limited: tuple[TestClient, FastAPI]) -> None:
    client, app = limited
    first = {"Authorization": f"Bearer {create_api_key(app, scopes=('matches:read',))}"}
    second = {"Authorization": f"Bearer {create_api_key(app, scopes=('matches:read',))}"}
    answers = [client.get("/api/v1/technologies", headers=first) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert [r.headers["RateLimit-Remaining"] for r in answers[:3]] == ["2", "1", "0"]
    refused = answers[-1]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "/problems/rate-limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # Another key has its own budget.
    assert client.get("/api/v1/technologies", headers=second).status_code == 200


def test_a_key_may_carry_its_own_limit(limited: tuple[TestClient, FastAPI]) -> None:
    client, app = limited
    with app.state.session_factory() as session, session.begin():
        key = create_key(session, tenant="default", scopes=["matches:read"], rate_limit="5/minute").secret
    headers = {"Authorization": f"Bearer {key}"}
    assert [client.get("/api/v1/technologies", headers=headers).status_code for _ in range(6)] == [200] * 5 + [429]


def test_requests_without_a_valid_key_are_401_not_counted(limited: tuple[TestClient, FastAPI]) -> None:
    client, _ = limited
    assert {client.get("/api/v1/technologies").status_code for _ in range(5)} == {401}


def test_body_over_the_cap_is_413(limited: tuple[TestClient, FastAPI]) -> None:
    client, _ = limited
    authorize(client)
    big = {"name": "x", "description": "y" * 3000}
    response = client.post("/api/v1/providers", json=big)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/payload-too-large"

    # A body sent without a Content-Length (chunked) is counted as it arrives.
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "x", "description": "'
        for _ in range(10):
            yield b"y" * 300
        yield b'"}'

    streamed = client.post("/api/v1/providers", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert streamed.json()["type"] == "/problems/payload-too-large"
    assert client.post("/api/v1/providers", json={"name": "small"}).status_code == 201


def test_request_heads_over_the_caps_are_431(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"max_header_bytes": 4096, "max_header_count": 20}))
    with TestClient(app) as client:
        assert client.get("/healthz", headers={"X-Filler": "x" * 3000}).status_code == 200
        for headers in ({"X-Filler": "x" * 5000}, {f"X-Header-{n}": "1" for n in range(30)}):
            refused = client.get("/healthz", headers=headers)
            assert refused.status_code == 431, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["type"] == "/problems/headers-too-large"
        long_url = client.get("/healthz", params={"q": "x" * 5000})
        assert long_url.status_code == 431


def test_nul_in_a_url_or_form_body_is_422(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        for response in (
            client.get("/healthz", params={"q": "a\x00b"}),
            client.get("/review/needs/1%00"),
            client.post("/review/login", data={"username": "curator\x00", "password": "x"}),
            client.post(
                "/review/login",
                content=b"username=c%00&password=x",
                headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            ),
        ):
            assert response.status_code == 422, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert "U+0000" in response.json()["detail"]


def test_cors_allows_only_configured_origins(limited: tuple[TestClient, FastAPI]) -> None:
    client, _ = limited
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    allowed = client.options("/api/v1/needs", headers={"Origin": "https://cluster.example"} | preflight)
    assert allowed.headers["access-control-allow-origin"] == "https://cluster.example"
    other = client.options("/api/v1/needs", headers={"Origin": "https://elsewhere.example"} | preflight)
    assert "access-control-allow-origin" not in other.headers


def test_no_cors_headers_by_default(client: TestClient) -> None:
    response = client.get("/api/v1/technologies", headers={"Origin": "https://cluster.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_cursor_walks_a_list_without_gaps_or_repeats(client: TestClient) -> None:
    names = [f"Provider {i:02d}" for i in range(7)]
    for name in names:
        assert client.post("/api/v1/providers", json={"name": name}).status_code == 201
    seen: list[str] = []
    page = client.get("/api/v1/providers", params={"limit": 3}).json()
    pages = 1
    while True:
        seen += [p["name"] for p in page["items"]]
        if page["next_cursor"] is None:
            break
        # A row added mid-walk does not shift the pages (it has a later id, so it comes last).
        if pages == 1:
            client.post("/api/v1/providers", json={"name": "Provider 99"})
        page = client.get("/api/v1/providers", params={"limit": 3, "cursor": page["next_cursor"]}).json()
        pages += 1
    assert seen == [*names, "Provider 99"]
    assert pages == 3


def test_bad_cursors_are_422(client: TestClient) -> None:
    for cursor in ("not-a-cursor", encode_cursor(3)[:-2], "eyJ2IjoyLCJhZnRlciI6M30"):
        response = client.get("/api/v1/providers", params={"cursor": cursor})
        assert response.status_code == 422, cursor
        assert response.json()["errors"][0]["location"] == ["query", "cursor"]
    both = client.get("/api/v1/providers", params={"cursor": encode_cursor(1), "offset": 2})
    assert both.status_code == 422


def test_a_full_last_page_has_no_cursor(client: TestClient) -> None:
    for name in ("A", "B", "C", "D"):
        client.post("/api/v1/providers", json={"name": name})
    assert client.get("/api/v1/providers", params={"limit": 4}).json()["next_cursor"] is None
    first = client.get("/api/v1/providers", params={"limit": 2}).json()
    assert (len(first["items"]), first["total"]) == (2, 4)
    second = client.get("/api/v1/providers", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [p["name"] for p in second["items"]] == ["C", "D"]
    assert second["next_cursor"] is None
