"""Tenant isolation: a key sees and changes only its tenant's companies, needs and matches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core.settings import Settings
from app.main import create_app
from tests.app.support import create_api_key

SCOPES = ("needs:write", "matches:read", "catalogue:write")


class Tenant:
    """A client of one tenant: a key with the integration scopes."""

    def __init__(self, client: TestClient, app: FastAPI, name: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {create_api_key(app, tenant=name, scopes=SCOPES)}"}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.client.post(path, json=body, headers=self.headers)

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.patch(path, json=body, headers=self.headers)

    def delete(self, path: str) -> Any:
        return self.client.delete(path, headers=self.headers)

    def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.post(path, body)
        assert response.status_code == 201, response.text
        return response.json()


def _catalogue(tenant: Tenant, *, name: str, title: str) -> tuple[dict[str, Any], dict[str, Any]]:
    provider = tenant.create("/api/v1/providers", {"name": name, "country": "DK"})
    technology = tenant.create(
        "/api/v1/technologies",
        {"provider_id": provider["id"], "title": title, "description": f"{title} for small factories."},
    )
    return provider, technology


def _need(tenant: Tenant, *, ref: str, title: str) -> tuple[dict[str, Any], dict[str, Any]]:
    company = tenant.create("/api/v1/companies", {"name": f"Company {ref}", "ref": ref})
    need = tenant.create(
        "/api/v1/needs", {"company_id": company["id"], "title": title, "description": title, "ref": f"{ref}-N1"}
    )
    return company, need


@pytest.fixture
def tenants(client: TestClient, app: FastAPI) -> tuple[Tenant, Tenant]:
    return Tenant(client, app, "north"), Tenant(client, app, "south")


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


def test_another_tenants_company_need_and_matches_are_404(tenants: tuple[Tenant, Tenant]) -> None:
    north, south = tenants
    _catalogue(north, name="Vision ApS", title="Camera weld inspection")
    company, need = _need(north, ref="C1", title="Inspect weld seams with a camera")
    assert north.post(f"/api/v1/needs/{need['id']}/matches").status_code == 200

    for path in (f"/api/v1/companies/{company['id']}", f"/api/v1/needs/{need['id']}"):
        assert north.get(path).status_code == 200
        detail = _problem(south.get(path), 404)["detail"]
        assert "no " in detail  # the same answer as for an id that does not exist
        _problem(south.patch(path, {"description": "taken over"}), 404)
        _problem(south.delete(path), 404)
    _problem(south.post(f"/api/v1/needs/{need['id']}/matches"), 404)
    _problem(south.get(f"/api/v1/needs/{need['id']}/matches"), 404)
    # Still there, unchanged, for its own tenant.
    assert north.get(f"/api/v1/needs/{need['id']}").json()["description"] == "Inspect weld seams with a camera"


def test_lists_show_only_the_tenants_own_profiles(tenants: tuple[Tenant, Tenant]) -> None:
    north, south = tenants
    _need(north, ref="C1", title="Automate pallet wrapping")
    _need(south, ref="C1", title="Energy monitoring of compressors")  # the same ref, another tenant: allowed
    for tenant, title in ((north, "Automate pallet wrapping"), (south, "Energy monitoring of compressors")):
        needs = tenant.get("/api/v1/needs").json()
        assert (needs["total"], [n["title"] for n in needs["items"]]) == (1, [title])
        assert tenant.get("/api/v1/companies").json()["total"] == 1
    # Within a tenant a ref is still unique.
    _problem(north.post("/api/v1/companies", {"name": "Again", "ref": "C1"}), 409)


def test_a_need_cannot_point_at_another_tenants_company(tenants: tuple[Tenant, Tenant]) -> None:
    north, south = tenants
    company, _ = _need(north, ref="C1", title="Automate pallet wrapping")
    body = {"company_id": company["id"], "title": "Borrowed company"}
    errors = _problem(south.post("/api/v1/needs", body), 422)["errors"]
    assert errors[0]["location"] == ["body", "company_id"]


def test_shared_catalogue_is_read_by_all_and_changed_only_by_its_tenant(tenants: tuple[Tenant, Tenant]) -> None:
    north, south = tenants
    provider, technology = _catalogue(north, name="Vision ApS", title="Camera weld inspection")
    assert south.get(f"/api/v1/technologies/{technology['id']}").status_code == 200
    assert [t["id"] for t in south.get("/api/v1/technologies").json()["items"]] == [technology["id"]]
    _problem(south.patch(f"/api/v1/technologies/{technology['id']}", {"title": "Mine now"}), 403)
    _problem(south.delete(f"/api/v1/technologies/{technology['id']}"), 403)
    _problem(south.patch(f"/api/v1/providers/{provider['id']}", {"name": "Mine now"}), 403)
    # Offering a technology under another tenant's provider is refused.
    body = {"provider_id": provider["id"], "title": "Squatter"}
    assert _problem(south.post("/api/v1/technologies", body), 422)["errors"][0]["location"] == ["body", "provider_id"]
    # Another tenant's need is matched against the shared catalogue.
    _, need = _need(south, ref="S1", title="Camera inspection of welds")
    matched = south.post(f"/api/v1/needs/{need['id']}/matches").json()
    assert [m["technology_id"] for m in matched["items"]] == [technology["id"]]


def test_leads_come_only_from_the_callers_needs(tenants: tuple[Tenant, Tenant]) -> None:
    north, south = tenants
    _, technology = _catalogue(north, name="Vision ApS", title="Camera weld inspection")
    _, north_need = _need(north, ref="N1", title="Camera inspection of welds")
    _, south_need = _need(south, ref="S1", title="Camera inspection of weld seams")
    path = f"/api/v1/technologies/{technology['id']}/leads"
    assert [lead["need_id"] for lead in north.get(path).json()["items"]] == [north_need["id"]]
    assert [lead["need_id"] for lead in south.get(path).json()["items"]] == [south_need["id"]]


@pytest.fixture
def private_app(settings: Settings) -> Iterator[tuple[TestClient, FastAPI]]:
    app = create_app(settings.model_copy(update={"share_catalogue": False}))
    with TestClient(app) as client:
        yield client, app


def test_unshared_catalogue_is_private_to_each_tenant(private_app: tuple[TestClient, FastAPI]) -> None:
    client, app = private_app
    north, south = Tenant(client, app, "north"), Tenant(client, app, "south")
    provider, technology = _catalogue(north, name="Vision ApS", title="Camera weld inspection")
    _, own = _catalogue(south, name="Heat ApS", title="Heat pump for drying ovens")
    _problem(south.get(f"/api/v1/technologies/{technology['id']}"), 404)
    _problem(south.get(f"/api/v1/providers/{provider['id']}"), 404)
    _problem(south.patch(f"/api/v1/technologies/{technology['id']}", {"title": "x"}), 404)
    assert [t["id"] for t in south.get("/api/v1/technologies").json()["items"]] == [own["id"]]
    # Matching (stored and ad hoc) never proposes another tenant's technology, however well it fits.
    _, need = _need(south, ref="S1", title="Camera inspection of welds")
    stored = south.post(f"/api/v1/needs/{need['id']}/matches").json()["items"]
    ad_hoc = south.post("/api/v1/match", {"text": "camera weld inspection", "k": 5}).json()["items"]
    assert {m["technology_id"] for m in stored} <= {own["id"]}
    assert {m["technology_id"] for m in ad_hoc} == {own["id"]}
    theirs = north.post("/api/v1/match", {"text": "camera weld"}).json()["items"]
    assert technology["id"] in {m["technology_id"] for m in theirs}


def test_pairing_plans_belong_to_their_tenant(client: TestClient, app: FastAPI) -> None:
    headers = {
        name: {"Authorization": f"Bearer {create_api_key(app, tenant=name, scopes=(*SCOPES, 'pairing'))}"}
        for name in ("north", "south")
    }
    north = Tenant(client, app, "north")
    north.headers = headers["north"]
    provider, _ = _catalogue(north, name="Vision ApS", title="Camera weld inspection")
    company, _ = _need(north, ref="C1", title="Camera inspection of welds")
    body = {
        "company_ids": [company["id"]],
        "provider_ids": [provider["id"]],
        "max_per_company": 1,
        "default_capacity": 1,
    }
    plan = client.post("/api/v1/pairing-plans", json=body, headers=headers["north"])
    assert plan.status_code == 201, plan.text
    path = f"/api/v1/pairing-plans/{plan.json()['id']}"
    assert client.get(path, headers=headers["north"]).status_code == 200
    _problem(client.get(path, headers=headers["south"]), 404)
    _problem(client.get(f"{path}/export.csv", headers=headers["south"]), 404)
    assert client.get("/api/v1/pairing-plans", headers=headers["south"]).json()["total"] == 0
    # Another tenant's companies cannot be put on a plan (the shared providers can).
    refused = _problem(client.post("/api/v1/pairing-plans", json=body, headers=headers["south"]), 422)
    assert refused["errors"][0]["location"] == ["body", "company_ids"]
