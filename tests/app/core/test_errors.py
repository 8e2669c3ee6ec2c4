"""Every error path answers RFC 9457 problem+json with the right status; none is a 500."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from app.core.settings import Settings
from app.main import create_app
from tests.app.support import authorize
from tests.factories import company_body, need_body, provider_body, technology_body

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def _problem(response: Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    return body


def _locations(body: dict) -> list[list]:
    return [error["location"] for error in body["errors"]]


@pytest.fixture
def provider_id(client: TestClient) -> int:
    return client.post("/api/v1/providers", json=provider_body()).json()["id"]


@pytest.mark.parametrize("resource", ["providers", "technologies", "companies", "needs"])
def test_unknown_id_is_404(client: TestClient, resource: str) -> None:
    for method in ("get", "delete"):
        body = _problem(getattr(client, method)(f"/api/v1/{resource}/4242"), 404)
        assert "4242" in body["detail"]
        assert body["instance"] == f"/api/v1/{resource}/4242"
    _problem(client.patch(f"/api/v1/{resource}/4242", json={}), 404)


def test_unknown_need_or_technology_in_matching_is_404(client: TestClient) -> None:
    _problem(client.post("/api/v1/needs/4242/matches"), 404)
    _problem(client.get("/api/v1/needs/4242/matches"), 404)
    _problem(client.get("/api/v1/technologies/4242/leads"), 404)


def test_missing_field_is_422_naming_it(client: TestClient) -> None:
    body = _problem(client.post("/api/v1/providers", json={"country": "DK"}), 422)
    assert ["body", "name"] in _locations(body)
    assert all(error["message"] for error in body["errors"])


def test_wrong_type_and_malformed_json_are_422(client: TestClient, provider_id: int) -> None:
    body = _problem(
        client.post("/api/v1/technologies", json=technology_body(provider_id=provider_id, trl="x")),
        422,
    )
    assert ["body", "trl"] in _locations(body)
    _problem(
        client.post("/api/v1/providers", content=b"{not json", headers={"content-type": "application/json"}),
        422,
    )
    _problem(client.get("/api/v1/providers/abc"), 422)


def test_unknown_field_is_422(client: TestClient) -> None:
    body = _problem(client.post("/api/v1/providers", json=provider_body(colour="red")), 422)
    assert ["body", "colour"] in _locations(body)
    _problem(client.post("/api/v1/match", json={"text": "x", "colour": "red"}), 422)


def test_over_long_text_is_422(tmp_path, settings: Settings) -> None:
    short = settings.model_copy(update={"max_text_chars": 200})
    with TestClient(create_app(short)) as client:
        authorize(client)
        body = _problem(client.post("/api/v1/providers", json=provider_body(description="x" * 201)), 422)
        assert _locations(body) == [["body", "description"]]
        company = client.post("/api/v1/companies", json=company_body()).json()
        _problem(
            client.patch(f"/api/v1/companies/{company['id']}", json={"description": "y" * 201}),
            422,
        )
        body = _problem(client.post("/api/v1/match", json={"text": "z" * 201}), 422)
        assert _locations(body) == [["body", "text"]]
        assert client.post("/api/v1/providers", json=provider_body(description="x" * 200)).is_success


def test_title_cap_is_422(client: TestClient, provider_id: int) -> None:
    response = client.post("/api/v1/technologies", json=technology_body(provider_id=provider_id, title="t" * 301))
    assert ["body", "title"] in _locations(_problem(response, 422))


def test_page_size_over_cap_is_422(client: TestClient, settings: Settings) -> None:
    over = settings.max_page_size + 1
    body = _problem(client.get("/api/v1/technologies", params={"limit": over}), 422)
    assert _locations(body) == [["query", "limit"]]
    _problem(client.get("/api/v1/needs", params={"limit": 0}), 422)
    _problem(client.get("/api/v1/needs", params={"offset": -1}), 422)
    assert client.get("/api/v1/needs", params={"limit": settings.max_page_size}).is_success


def test_taxonomy_is_enforced(client: TestClient, provider_id: int) -> None:
    body = _problem(
        client.post(
            "/api/v1/technologies",
            json=technology_body(provider_id=provider_id, categories=["robotics", "telepathy"]),
        ),
        422,
    )
    assert _locations(body) == [["body", "categories", 1]]
    assert "telepathy" in body["errors"][0]["message"]
    for field, value in (("sectors", ["space"]), ("regions_served", ["Mars"]), ("trl", 10)):
        _problem(
            client.post("/api/v1/technologies", json=technology_body(provider_id=provider_id, **{field: value})),
            422,
        )
    _problem(client.post("/api/v1/companies", json=company_body(sector="space")), 422)


def test_price_range_is_checked(client: TestClient, provider_id: int) -> None:
    body = technology_body(provider_id=provider_id, price_min_eur=50, price_max_eur=10)
    _problem(client.post("/api/v1/technologies", json=body), 422)
    _problem(client.post("/api/v1/technologies", json={**body, "price_min_eur": -1}), 422)
    created = client.post("/api/v1/technologies", json=technology_body(provider_id=provider_id))
    # Each bound alone is valid; together with the stored one it is not.
    response = client.patch(f"/api/v1/technologies/{created.json()['id']}", json={"price_min_eur": 999_999})
    assert _locations(_problem(response, 422)) == [["body", "price_min_eur"]]


def test_explicit_null_on_required_field_is_422(client: TestClient, provider_id: int) -> None:
    body = _problem(client.patch(f"/api/v1/providers/{provider_id}", json={"name": None}), 422)
    assert _locations(body) == [["body", "name"]]


def test_unknown_parent_is_422(client: TestClient) -> None:
    body = _problem(client.post("/api/v1/technologies", json=technology_body(provider_id=999)), 422)
    assert _locations(body) == [["body", "provider_id"]]
    body = _problem(client.post("/api/v1/needs", json=need_body(company_id=999)), 422)
    assert _locations(body) == [["body", "company_id"]]


def test_duplicate_ref_is_409(client: TestClient) -> None:
    first = client.post("/api/v1/providers", json=provider_body(ref="P-1")).json()
    _problem(client.post("/api/v1/providers", json=provider_body(ref="P-1")), 409)
    other = client.post("/api/v1/providers", json=provider_body(ref="P-2")).json()
    _problem(client.patch(f"/api/v1/providers/{other['id']}", json={"ref": "P-1"}), 409)
    # Keeping one's own ref is not a conflict.
    assert client.patch(f"/api/v1/providers/{first['id']}", json={"ref": "P-1"}).is_success


def test_k_out_of_range_is_422(loaded_client: TestClient) -> None:
    for k in (0, 51):
        _problem(loaded_client.post("/api/v1/match", json={"text": "welding", "k": k}), 422)
        _problem(loaded_client.post("/api/v1/needs/1/matches", params={"k": k}), 422)
        _problem(loaded_client.get("/api/v1/technologies/1/leads", params={"k": k}), 422)


def test_unknown_route_is_404_problem(client: TestClient) -> None:
    body = _problem(client.get("/api/v1/nothing-here"), 404)
    assert body["instance"] == "/api/v1/nothing-here"
    assert body["title"] == "Not Found"


def test_wrong_method_is_405_problem(client: TestClient) -> None:
    response = client.put("/api/v1/providers")
    _problem(response, 405)
    assert "GET" in response.headers["allow"]


def test_unexpected_error_is_500_problem(app: FastAPI) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("kaput")

    with TestClient(app, raise_server_exceptions=False) as client:
        authorize(client)
        body = _problem(client.get("/boom"), 500)
    assert "kaput" not in body["detail"]  # internals stay in the log
