"""The programme's picture and the funders' report: counts from needs, matches, engagements and plans."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import openpyxl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.app.support import create_api_key

PLANS = "/api/v1/pairing-plans"
ENGAGEMENTS = "/api/v1/engagements"
PROGRAMME = "/api/v1/programme"


def _ids(client: TestClient, resource: str) -> dict[str, int]:
    return {i["ref"]: i["id"] for i in client.get(f"/api/v1/{resource}", params={"limit": 100}).json()["items"]}


def _move(client: TestClient, engagement: dict[str, Any], stage: str, **fields: Any) -> dict[str, Any]:
    body = {"stage": stage, "expected_version": engagement["version"]} | fields
    response = client.post(f"{ENGAGEMENTS}/{engagement['id']}/moves", json=body)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def programme(loaded_client: TestClient) -> dict[str, Any]:
    """A demo day for three of the five SMEs, followed up: one adopted, one declined, one in a pilot."""
    ids = _ids(loaded_client, "companies") | _ids(loaded_client, "providers")
    need_id = loaded_client.get("/api/v1/needs", params={"limit": 1}).json()["items"][0]["id"]
    assert loaded_client.post(f"/api/v1/needs/{need_id}/matches", params={"k": 4}).status_code == 200
    match = loaded_client.get("/api/v1/review/queue", params={"need_id": need_id}).json()["items"][0]
    loaded_client.post(f"/api/v1/review/matches/{match['match_id']}/decisions", json={"action": "approve"})
    providers = [ids[p] for p in ("P1", "P2", "P3", "P4")]
    plan = loaded_client.post(
        PLANS,
        json={
            "company_ids": [ids[c] for c in ("C1", "C2", "C3")],
            "provider_ids": providers,
            "default_capacity": 2,
            "max_per_company": 1,
        },
    ).json()
    created = loaded_client.post(f"{PLANS}/{plan['id']}/engagements", json={"stage": "demonstrated"}).json()["created"]
    assert len(created) == 3
    adopted = _move(loaded_client, _move(loaded_client, created[0], "pilot"), "adopted")
    declined = _move(loaded_client, created[1], "declined", reason_code="not_relevant")
    training = [
        {"competence": "cobot programming", "status": "planned", "planned_on": "2030-02-01"},
        {"competence": "CNC setup", "status": "done"},
    ]
    pilot = loaded_client.patch(f"{ENGAGEMENTS}/{created[2]['id']}", json={"expected_version": 0, "training": training})
    pilot = _move(loaded_client, pilot.json(), "pilot")
    return {"plan": plan, "adopted": adopted, "declined": declined, "pilot": pilot, "ids": ids}


def test_the_dashboard_counts_what_happened(loaded_client: TestClient, programme: dict[str, Any]) -> None:
    response = loaded_client.get(f"{PROGRAMME}/dashboard")
    assert response.status_code == 200, response.text
    picture = response.json()
    assert picture["needs"] == 8 and picture["danish_needs"] == 3 and picture["danish_share"] == 0.375
    assert sum(row["count"] for row in picture["needs_by_category"]) == 8
    assert {row["key"] for row in picture["needs_by_sector"]} == {"metal", "plastics", "food", "wood-furniture"}
    assert sum(row["count"] for row in picture["needs_by_sector"]) == 8

    funnel = {step["stage"]: step for step in picture["funnel"]}
    assert list(funnel) == ["proposed", "approved", "introduced", "met", "demonstrated", "pilot", "adopted"]
    assert funnel["proposed"]["count"] == 4 and funnel["approved"]["count"] == 1
    assert funnel["introduced"]["count"] == funnel["demonstrated"]["count"] == 3
    assert funnel["pilot"]["count"] == 2 and funnel["adopted"]["count"] == 1
    assert funnel["adopted"]["conversion"] == 0.5 and funnel["proposed"]["conversion"] is None
    # Three introduced from one approved match, but none started from it: a share, not 300%.
    assert funnel["introduced"]["conversion"] == 0.0
    assert all(step["conversion"] is None or 0 <= step["conversion"] <= 1 for step in funnel.values())
    approved = loaded_client.get("/api/v1/review/queue", params={"status": "approved"}).json()["items"]
    assert loaded_client.post(ENGAGEMENTS, json={"match_id": approved[0]["match_id"]}).status_code == 201
    funnel = {step["stage"]: step for step in loaded_client.get(f"{PROGRAMME}/dashboard").json()["funnel"]}
    assert funnel["introduced"]["count"] == 4 and funnel["introduced"]["conversion"] == 1.0
    assert picture["declined"] == 1 and picture["declined_by_reason"][0]["key"] == "not_relevant"

    # C4 and C5 have needs and no engagement: not served, the one with the older need first.
    assert picture["smes_with_needs"] == 5 and picture["smes_not_served"] == 2 == picture["smes_without_demo"]
    ids = programme["ids"]
    assert {w["company_id"] for w in picture["waiting"]} == {ids["C4"], ids["C5"]}
    demo = picture["time_to_first_demo"]
    assert demo["needs"] == 3 and demo["median"] is not None and demo["median"] >= 0 and len(demo["days"]) == 3

    load = {row["provider_id"]: row for row in picture["provider_load"]}
    assert sum(row["slots"] for row in load.values()) == 8
    assert sum(row["demos"] for row in load.values()) == programme["plan"]["totals"]["pairs"] == 3
    assert sum(row["engagements"] for row in load.values()) == 3
    assert sum(row["open_engagements"] for row in load.values()) == 1


def test_the_funders_report_for_a_period(loaded_client: TestClient, programme: dict[str, Any]) -> None:
    today = date.today()
    report = loaded_client.get(f"{PROGRAMME}/report", params={"from": today.isoformat(), "to": today.isoformat()})
    assert report.status_code == 200, report.text
    report = report.json()
    assert (report["smes_engaged"], report["demonstrations_held"], report["pilots"], report["adoptions"]) == (
        3,
        3,
        2,
        1,
    )
    assert report["declined"] == 1 and report["demo_days"] == 1 and report["demo_day_pairs"] == 3
    assert (report["competence_plans"], report["training_planned"], report["training_done"]) >= (1, 2, 1)
    assert {row["competence"] for row in report["competences"]} >= {"cobot programming", "CNC setup"}
    assert len(report["engagements"]) == 3

    past = loaded_client.get(f"{PROGRAMME}/report", params={"from": "2000-01-01", "to": "2000-12-31"}).json()
    assert (past["smes_engaged"], past["demonstrations_held"], past["adoptions"], past["demo_days"]) == (0, 0, 0, 0)
    assert past["engagements"] == [] and past["funnel"][0]["count"] == 0
    backwards = loaded_client.get(f"{PROGRAMME}/report", params={"from": today.isoformat(), "to": "2000-01-01"})
    assert backwards.status_code == 422
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert loaded_client.get(f"{PROGRAMME}/dashboard", params={"from": tomorrow}).json()["needs"] == 0


def test_the_report_as_a_workbook(loaded_client: TestClient, programme: dict[str, Any]) -> None:
    response = loaded_client.get(f"{PROGRAMME}/report.xlsx")
    assert response.status_code == 200 and "spreadsheetml" in response.headers["content-type"]
    assert "attachment" in response.headers["content-disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Summary", "Funnel", "Engagements", "Competence plans"]
    figures = {row[0]: row[1] for row in workbook["Summary"].iter_rows(min_row=2, values_only=True)}
    assert (
        figures["adoptions"] == 1
        and figures["demonstrations_held"] == 3
        and figures["period"] == "the beginning to now"
    )
    assert len(list(workbook["Engagements"].iter_rows(min_row=2))) == 3
    competences = {row[4] for row in workbook["Competence plans"].iter_rows(min_row=2, values_only=True)}
    assert {"cobot programming", "CNC setup"} <= competences


@pytest.mark.parametrize("name", ["funnel", "needs-by-category", "needs-by-sector", "time-to-demo", "provider-load"])
def test_every_plot_is_a_png(loaded_client: TestClient, programme: dict[str, Any], name: str) -> None:
    response = loaded_client.get(f"{PROGRAMME}/plots/{name}.png")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n") and len(response.content) > 2000
    empty = loaded_client.get(f"{PROGRAMME}/plots/{name}.png", params={"from": "2000-01-01", "to": "2000-01-02"})
    assert empty.status_code == 200 and empty.content.startswith(b"\x89PNG")


def test_unknown_plots_and_other_scopes_are_refused(loaded_client: TestClient, loaded_app: FastAPI) -> None:
    assert loaded_client.get(f"{PROGRAMME}/plots/pie.png").status_code == 422
    pairing_only = {"Authorization": f"Bearer {create_api_key(loaded_app, scopes=('pairing',))}"}
    assert loaded_client.get(f"{PROGRAMME}/dashboard", headers=pairing_only).status_code == 403
    other = {"Authorization": f"Bearer {create_api_key(loaded_app, tenant='other', scopes=('programme',))}"}
    assert loaded_client.get(f"{PROGRAMME}/dashboard", headers=other).json()["needs"] == 0
