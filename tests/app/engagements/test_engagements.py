"""Engagements: made from plans and approved matches, moved on the board with a version, history append-only."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.core.database import unit_of_work
from app.core.errors import Conflict, NotFound
from app.engagements import service as engagements
from app.engagements.repository import EngagementScope
from app.engagements.schemas import EngagementMove
from app.models import EngagementEvent
from tests.app.support import create_api_key
from tests.factories import company_body, need_body, provider_body, technology_body

PLANS = "/api/v1/pairing-plans"
ENGAGEMENTS = "/api/v1/engagements"


def _ids(client: TestClient, resource: str) -> dict[str, int]:
    return {i["ref"]: i["id"] for i in client.get(f"/api/v1/{resource}", params={"limit": 100}).json()["items"]}


@pytest.fixture
def ids(loaded_client: TestClient) -> dict[str, int]:
    return _ids(loaded_client, "companies") | _ids(loaded_client, "providers") | _ids(loaded_client, "technologies")


def _plan(client: TestClient, ids: dict[str, int]) -> dict[str, Any]:
    providers = [ids[p] for p in ("P1", "P2", "P3", "P4")]
    body = {
        "company_ids": [ids[c] for c in ("C1", "C2", "C3", "C4", "C5")],
        "provider_ids": providers,
        "default_capacity": 2,
        "max_per_company": 2,
        "rounds": 2,
    }
    response = client.post(PLANS, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _move(client: TestClient, engagement: dict[str, Any], stage: str, **fields: Any) -> Any:
    body = {"stage": stage, "expected_version": engagement["version"]} | fields
    return client.post(f"{ENGAGEMENTS}/{engagement['id']}/moves", json=body)


def _queue(client: TestClient, need_id: int, status: str = "proposed") -> list[dict[str, Any]]:
    return client.get("/api/v1/review/queue", params={"need_id": need_id, "status": status}).json()["items"]


def _approved_match(client: TestClient, need_id: int) -> dict[str, Any]:
    assert client.post(f"/api/v1/needs/{need_id}/matches", params={"k": 3}).status_code == 200
    match = _queue(client, need_id)[0]
    decided = client.post(f"/api/v1/review/matches/{match['match_id']}/decisions", json={"action": "approve"})
    assert decided.status_code == 201, decided.text
    return match


def test_a_plan_makes_one_engagement_per_pair_once(loaded_client: TestClient, ids: dict[str, int]) -> None:
    plan = _plan(loaded_client, ids)
    response = loaded_client.post(f"{PLANS}/{plan['id']}/engagements", json={})
    assert response.status_code == 201, response.text
    result = response.json()
    created = result["created"]
    assert len(created) == plan["totals"]["pairs"] and result["existing"] == []
    pairs = {(a["company_id"], a["provider_id"]): a for a in plan["assignments"]}
    for engagement in created:
        source = pairs[(engagement["company_id"], engagement["provider_id"])]
        assert engagement["technology_id"] == source["technology_id"] and engagement["need_id"] == source["need_id"]
        assert (engagement["stage"], engagement["origin"], engagement["plan_id"]) == (
            "introduced",
            "demo_day",
            plan["id"],
        )
        assert engagement["version"] == 0 and engagement["open"] is True
        # The competence plan starts with the gap: one item per competence the company lacks.
        assert [t["competence"] for t in engagement["training"]] == engagement["competence_gap"]
        assert all(t["status"] == "needed" for t in engagement["training"])
    again = loaded_client.post(f"{PLANS}/{plan['id']}/engagements", json={"stage": "demonstrated"}).json()
    assert again["created"] == [] and sorted(again["existing"]) == sorted(e["id"] for e in created)
    assert loaded_client.post(f"{PLANS}/999/engagements", json={}).status_code == 404


def test_the_competence_gap_reaches_the_engagement(loaded_client: TestClient) -> None:
    provider = loaded_client.post("/api/v1/providers", json=provider_body()).json()
    technology = loaded_client.post(
        "/api/v1/technologies",
        json=technology_body(provider_id=provider["id"], competences=["vibration analysis", "PLC programming"]),
    ).json()
    company = loaded_client.post("/api/v1/companies", json=company_body(skills=["PLC-programmering"])).json()
    loaded_client.post("/api/v1/needs", json=need_body(company_id=company["id"]))
    plan = loaded_client.post(
        PLANS,
        json={
            "company_ids": [company["id"]],
            "provider_ids": [provider["id"]],
            "default_capacity": 1,
            "max_per_company": 1,
            "must_pairs": [{"company_id": company["id"], "provider_id": provider["id"]}],
        },
    ).json()
    (engagement,) = loaded_client.post(f"{PLANS}/{plan['id']}/engagements", json={}).json()["created"]
    assert engagement["technology_id"] == technology["id"]
    assert engagement["competence_gap"] == ["vibration analysis"]  # the Danish skill covers PLC programming
    assert engagement["training"] == [
        {"competence": "vibration analysis", "status": "needed", "planned_on": None, "note": None}
    ]


def test_an_approved_match_is_introduced_once(loaded_client: TestClient, ids: dict[str, int]) -> None:
    need_id = loaded_client.get("/api/v1/needs", params={"limit": 1}).json()["items"][0]["id"]
    match = _approved_match(loaded_client, need_id)
    response = loaded_client.post(ENGAGEMENTS, json={"match_id": match["match_id"], "note": "call Monday"})
    assert response.status_code == 201, response.text
    engagement = response.json()
    assert response.headers["Location"] == f"{ENGAGEMENTS}/{engagement['id']}"
    assert (engagement["origin"], engagement["match_id"], engagement["need_id"]) == (
        "match",
        match["match_id"],
        need_id,
    )
    assert engagement["technology_id"] == match["technology_id"] and engagement["notes"] == "call Monday"
    twice = loaded_client.post(ENGAGEMENTS, json={"match_id": match["match_id"]})
    assert twice.status_code == 409 and f"engagement {engagement['id']}" in twice.json()["detail"]

    proposed = _queue(loaded_client, need_id)[0]
    refused = loaded_client.post(ENGAGEMENTS, json={"match_id": proposed["match_id"]})
    assert refused.status_code == 409 and "approved" in refused.json()["detail"]
    assert loaded_client.post(ENGAGEMENTS, json={"match_id": 99999}).status_code == 404


def test_moves_check_the_version_and_the_rules_and_keep_history(loaded_client: TestClient, ids: dict[str, int]) -> None:
    plan = _plan(loaded_client, ids)
    engagement = loaded_client.post(f"{PLANS}/{plan['id']}/engagements", json={}).json()["created"][0]

    met = _move(loaded_client, engagement, "met", next_action_on="2030-01-15")
    assert met.status_code == 200, met.text
    met = met.json()
    assert (met["stage"], met["version"], met["furthest_stage"], met["next_action_on"]) == (
        "met",
        1,
        "met",
        "2030-01-15",
    )
    stale = _move(loaded_client, engagement, "demonstrated")  # still version 0
    assert stale.status_code == 409 and stale.headers["content-type"] == "application/problem+json"
    assert "version 0, now 1" in stale.json()["detail"]
    assert _move(loaded_client, met, "met").status_code == 409  # already there

    pilot = _move(loaded_client, met, "pilot").json()
    no_reason = _move(loaded_client, pilot, "declined")
    assert no_reason.status_code == 422
    assert _move(loaded_client, pilot, "declined", reason_code="bored").status_code == 422
    assert _move(loaded_client, pilot, "declined", reason_code="other").status_code == 422  # other needs a note
    assert _move(loaded_client, pilot, "met", reason_code="not_relevant").status_code == 422
    declined = _move(loaded_client, pilot, "declined", reason_code="too_expensive", note="budget cut").json()
    assert (declined["stage"], declined["open"], declined["end_reason"], declined["end_note"]) == (
        "declined",
        False,
        "too_expensive",
        "budget cut",
    )
    assert declined["furthest_stage"] == "pilot"  # how far it got before it ended

    assert _move(loaded_client, declined, "pilot").status_code == 409  # reopening needs a note
    reopened = _move(loaded_client, declined, "pilot", note="new budget in Q3").json()
    assert (reopened["stage"], reopened["open"], reopened["end_reason"]) == ("pilot", True, None)
    adopted = _move(loaded_client, reopened, "adopted", reason_code="solved").json()
    assert (adopted["stage"], adopted["furthest_stage"], adopted["end_reason"]) == ("adopted", "adopted", "solved")

    detail = loaded_client.get(f"{ENGAGEMENTS}/{engagement['id']}").json()
    steps = [(h["action"], h["from_stage"], h["to_stage"]) for h in detail["history"]]
    assert steps == [
        ("created", None, "introduced"),
        ("moved", "introduced", "met"),
        ("moved", "met", "pilot"),
        ("moved", "pilot", "declined"),
        ("moved", "declined", "pilot"),
        ("moved", "pilot", "adopted"),
    ]
    assert detail["history"][3]["reason_code"] == "too_expensive" and detail["history"][4]["note"] == "new budget in Q3"
    assert loaded_client.get(f"{ENGAGEMENTS}/{engagement['id']}/history").json() == detail["history"]


def test_updates_keep_before_and_after_and_overdue_ones_are_found(
    loaded_client: TestClient, ids: dict[str, int]
) -> None:
    plan = _plan(loaded_client, ids)
    first, second = loaded_client.post(f"{PLANS}/{plan['id']}/engagements", json={}).json()["created"][:2]
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    training = [{"competence": "cobot programming", "status": "planned", "planned_on": "2030-03-01"}]
    body = {"expected_version": 0, "notes": "met at the fair", "next_action_on": yesterday, "training": training}
    updated = loaded_client.patch(f"{ENGAGEMENTS}/{first['id']}", json=body)
    assert updated.status_code == 200, updated.text
    updated = updated.json()
    assert updated["notes"] == "met at the fair" and updated["overdue"] is True and updated["version"] == 1
    assert updated["training"] == [
        {"competence": "cobot programming", "status": "planned", "planned_on": "2030-03-01", "note": None}
    ]
    assert loaded_client.patch(f"{ENGAGEMENTS}/{first['id']}", json=body).status_code == 409  # stale
    bad = {"expected_version": 1, "training": [{"competence": "x", "status": "someday"}]}
    assert loaded_client.patch(f"{ENGAGEMENTS}/{first['id']}", json=bad).status_code == 422

    (event,) = [h for h in loaded_client.get(f"{ENGAGEMENTS}/{first['id']}/history").json() if h["action"] == "updated"]
    assert event["changes"]["notes"] == ["", "met at the fair"]
    assert event["changes"]["next_action_on"] == [None, yesterday]

    overdue = loaded_client.get(ENGAGEMENTS, params={"overdue": True}).json()
    assert [e["id"] for e in overdue["items"]] == [first["id"]]
    assert second["id"] not in [e["id"] for e in overdue["items"]]


def test_the_board_has_a_column_per_stage_and_filters(loaded_client: TestClient, ids: dict[str, int]) -> None:
    plan = _plan(loaded_client, ids)
    created = loaded_client.post(f"{PLANS}/{plan['id']}/engagements", json={}).json()["created"]
    _move(loaded_client, created[0], "demonstrated")
    board = loaded_client.get(f"{ENGAGEMENTS}/board").json()
    columns = {c["stage"]: c for c in board["columns"]}
    assert list(columns) == ["introduced", "met", "demonstrated", "pilot", "adopted", "declined"]
    assert board["total"] == len(created)
    assert columns["demonstrated"]["count"] == 1 and columns["demonstrated"]["items"][0]["id"] == created[0]["id"]
    assert columns["introduced"]["count"] == len(created) - 1

    provider = created[0]["provider_id"]
    narrowed = loaded_client.get(f"{ENGAGEMENTS}/board", params={"provider_id": provider, "per_column": 1}).json()
    assert all(item["provider_id"] == provider for c in narrowed["columns"] for item in c["items"])
    assert all(len(c["items"]) <= 1 for c in narrowed["columns"])
    assert narrowed["total"] == sum(1 for e in created if e["provider_id"] == provider)

    listed = loaded_client.get(ENGAGEMENTS, params={"stage": "demonstrated"}).json()
    assert [e["id"] for e in listed["items"]] == [created[0]["id"]] and listed["total"] == 1
    assert loaded_client.get(ENGAGEMENTS, params={"stage": "someday"}).status_code == 422


def test_another_tenant_sees_none_of_them(loaded_client: TestClient, loaded_app: FastAPI, ids: dict[str, int]) -> None:
    plan = _plan(loaded_client, ids)
    engagement = loaded_client.post(f"{PLANS}/{plan['id']}/engagements", json={}).json()["created"][0]
    other = {"Authorization": f"Bearer {create_api_key(loaded_app, tenant='other', scopes=('programme',))}"}
    assert loaded_client.get(f"{ENGAGEMENTS}/{engagement['id']}", headers=other).status_code == 404
    assert loaded_client.get(ENGAGEMENTS, headers=other).json()["total"] == 0
    body = {"stage": "met", "expected_version": 0}
    assert loaded_client.post(f"{ENGAGEMENTS}/{engagement['id']}/moves", json=body, headers=other).status_code == 404
    pairing_only = {"Authorization": f"Bearer {create_api_key(loaded_app, scopes=('pairing',))}"}
    assert loaded_client.get(ENGAGEMENTS, headers=pairing_only).status_code == 403


def test_smes_and_providers_report_their_own_steps_forward(
    loaded_app: FastAPI, loaded_client: TestClient, ids: dict[str, int]
) -> None:
    plan = _plan(loaded_client, ids)
    created = loaded_client.post(f"{PLANS}/{plan['id']}/engagements", json={}).json()["created"]
    mine = created[0]
    theirs = next(e for e in created if e["company_id"] != mine["company_id"])
    sme = engagements.Actor(
        name="owner@sme.example", kind="sme", scope=EngagementScope(tenant="default", company_id=mine["company_id"])
    )
    with unit_of_work(loaded_app.state.session_factory) as session:
        with pytest.raises(NotFound):
            engagements.move(
                session, actor=sme, engagement_id=theirs["id"], data=EngagementMove(stage="met", expected_version=0)
            )
        moved = engagements.move(
            session, actor=sme, engagement_id=mine["id"], data=EngagementMove(stage="demonstrated", expected_version=0)
        )
        assert moved.stage == "demonstrated"
        with pytest.raises(Conflict, match="steps forward"):
            engagements.move(
                session, actor=sme, engagement_id=mine["id"], data=EngagementMove(stage="met", expected_version=1)
            )
        engagements.move(
            session,
            actor=sme,
            engagement_id=mine["id"],
            data=EngagementMove(stage="declined", expected_version=1, reason_code="no_capacity"),
        )
        with pytest.raises(Conflict, match="facilitator may reopen"):
            engagements.move(
                session,
                actor=sme,
                engagement_id=mine["id"],
                data=EngagementMove(stage="pilot", expected_version=2, note="x"),
            )
    history = loaded_client.get(f"{ENGAGEMENTS}/{mine['id']}/history").json()
    assert [(h["actor"], h["actor_kind"]) for h in history[1:]] == [("owner@sme.example", "sme")] * 2
    provider = EngagementScope(tenant="default", provider_id=mine["provider_id"])
    with unit_of_work(loaded_app.state.session_factory) as session:
        _rows, total = engagements.page(
            session, scope=provider, filters=engagements.EngagementFilters(), limit=100, offset=0
        )
        assert total == sum(1 for e in created if e["provider_id"] == mine["provider_id"])


def test_the_orm_refuses_to_change_or_delete_history(
    loaded_app: FastAPI, loaded_client: TestClient, ids: dict[str, int]
) -> None:
    plan = _plan(loaded_client, ids)
    loaded_client.post(f"{PLANS}/{plan['id']}/engagements", json={})
    with unit_of_work(loaded_app.state.session_factory) as session:
        event = session.scalars(select(EngagementEvent)).first()
        assert event is not None
        event.note = "rewritten"
        with pytest.raises(PermissionError, match="append-only"):
            session.flush()
        session.rollback()
        event = session.scalars(select(EngagementEvent)).first()
        session.delete(event)
        with pytest.raises(PermissionError, match="append-only"):
            session.flush()
        session.rollback()


def test_erasing_a_company_erases_its_engagements(
    loaded_app: FastAPI, loaded_client: TestClient, ids: dict[str, int]
) -> None:
    plan = _plan(loaded_client, ids)
    created = loaded_client.post(f"{PLANS}/{plan['id']}/engagements", json={}).json()["created"]
    company = created[0]["company_id"]
    access = loaded_client.get(f"/api/v1/companies/{company}/export").json()
    assert {e["id"] for e in access["engagements"]} == {e["id"] for e in created if e["company_id"] == company}
    assert access["engagement_events"]
    assert loaded_client.delete(f"/api/v1/companies/{company}").status_code == 204
    left = loaded_client.get(ENGAGEMENTS, params={"limit": 100}).json()["items"]
    assert left and all(e["company_id"] != company for e in left)
    with unit_of_work(loaded_app.state.session_factory) as session:
        assert not session.scalars(select(EngagementEvent).where(EngagementEvent.company_id == company)).all()
