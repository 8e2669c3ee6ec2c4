"""CRUD round trips for providers, technologies, companies and needs, with pagination."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import company_body, need_body, provider_body, technology_body


def _create(client: TestClient, path: str, body: dict) -> dict:
    response = client.post(path, json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"{path}/{created['id']}"
    return created


def test_provider_round_trip(client: TestClient) -> None:
    created = _create(client, "/api/v1/providers", provider_body(ref="P-A"))
    assert created["ref"] == "P-A"
    assert client.get(f"/api/v1/providers/{created['id']}").json() == created

    patched = client.patch(f"/api/v1/providers/{created['id']}", json={"name": "Renamed ApS"})
    assert patched.status_code == 200
    assert patched.json()["name"] == "Renamed ApS"
    assert patched.json()["website"] == created["website"]  # untouched fields stay

    assert client.delete(f"/api/v1/providers/{created['id']}").status_code == 204
    assert client.get(f"/api/v1/providers/{created['id']}").status_code == 404


def test_pagination(client: TestClient) -> None:
    ids = [_create(client, "/api/v1/providers", provider_body(name=f"P{i}"))["id"] for i in range(5)]

    first = client.get("/api/v1/providers", params={"limit": 2}).json()
    assert (first["total"], first["limit"], first["offset"]) == (5, 2, 0)
    assert [p["id"] for p in first["items"]] == ids[:2]

    last = client.get("/api/v1/providers", params={"limit": 2, "offset": 4}).json()
    assert [p["id"] for p in last["items"]] == ids[4:]
    beyond = client.get("/api/v1/providers", params={"offset": 10}).json()
    assert beyond["items"] == [] and beyond["total"] == 5


def test_technology_round_trip(client: TestClient) -> None:
    provider = _create(client, "/api/v1/providers", provider_body())
    created = _create(client, "/api/v1/technologies", technology_body(provider_id=provider["id"]))
    assert created["provider_name"] == provider["name"]
    assert created["categories"] == ["predictive-maintenance", "iot-sensors"]

    patched = client.patch(
        f"/api/v1/technologies/{created['id']}", json={"trl": 9, "categories": ["iot-sensors"]}
    ).json()
    assert (patched["trl"], patched["categories"]) == (9, ["iot-sensors"])
    assert patched["price_max_eur"] == 30000

    listed = client.get("/api/v1/technologies", params={"provider_id": provider["id"]}).json()
    assert [t["id"] for t in listed["items"]] == [created["id"]]
    assert client.get("/api/v1/technologies", params={"provider_id": 999}).json()["total"] == 0

    assert client.get("/readyz").json()["technologies"] == 1
    assert client.delete(f"/api/v1/technologies/{created['id']}").status_code == 204
    assert client.get(f"/api/v1/technologies/{created['id']}").status_code == 404
    assert client.get("/readyz").status_code == 200


def test_company_and_need_round_trip(client: TestClient) -> None:
    company = _create(client, "/api/v1/companies", company_body(ref="C-A"))
    assert client.get(f"/api/v1/companies/{company['id']}").json() == company
    need = _create(client, "/api/v1/needs", need_body(company_id=company["id"]))
    assert need["company_name"] == company["name"]
    assert need["constraints"] == {
        "budget_eur_max": 40000,
        "min_trl": 6,
        "region": "DK-82",
        "languages": None,
    }

    patched = client.patch(
        f"/api/v1/needs/{need['id']}",
        json={"lang": "da", "constraints": {"languages": ["da"]}},
    ).json()
    assert patched["lang"] == "da"
    assert patched["constraints"] == {
        "budget_eur_max": None,
        "min_trl": None,
        "region": None,
        "languages": ["da"],
    }
    assert patched["title"] == need["title"]

    company_patch = client.patch(f"/api/v1/companies/{company['id']}", json={"sector": "food"})
    assert company_patch.json()["sector"] == "food"

    listed = client.get("/api/v1/needs", params={"company_id": company["id"]}).json()
    assert listed["total"] == 1
    assert client.get("/api/v1/companies").json()["total"] == 1

    assert client.delete(f"/api/v1/needs/{need['id']}").status_code == 204
    assert client.delete(f"/api/v1/companies/{company['id']}").status_code == 204
    assert client.get("/api/v1/needs").json()["total"] == 0


def test_parents_with_children_are_not_deleted(client: TestClient) -> None:
    provider = _create(client, "/api/v1/providers", provider_body())
    _create(client, "/api/v1/technologies", technology_body(provider_id=provider["id"]))
    response = client.delete(f"/api/v1/providers/{provider['id']}")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"

    # A company is different: deleting it erases its needs too (tests/app/privacy/test_erasure.py).
    company = _create(client, "/api/v1/companies", company_body())
    need = _create(client, "/api/v1/needs", need_body(company_id=company["id"]))
    assert client.delete(f"/api/v1/companies/{company['id']}").status_code == 204
    assert client.get(f"/api/v1/needs/{need['id']}").status_code == 404


def test_provider_rename_reaches_match_results(loaded_client: TestClient) -> None:
    technologies = loaded_client.get("/api/v1/technologies", params={"limit": 100}).json()["items"]
    t04 = next(t for t in technologies if t["ref"] == "T04")
    loaded_client.patch(f"/api/v1/providers/{t04['provider_id']}", json={"name": "Seeing Eye"})

    body = {"text": "hairline cracks in welded brackets inspection", "k": 3}
    items = loaded_client.post("/api/v1/match", json=body).json()["items"]
    top = next(i for i in items if i["technology_ref"] == "T04")
    assert top["provider_name"] == "Seeing Eye"
    assert loaded_client.get("/readyz").status_code == 200


def test_openapi_describes_the_api(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert {"/api/v1/providers", "/api/v1/needs/{need_id}/matches", "/api/v1/match"} <= set(schema["paths"])
    category = schema["components"]["schemas"]["TechnologyCreate"]["properties"]["categories"]
    assert "robotics" in category["items"]["enum"]
