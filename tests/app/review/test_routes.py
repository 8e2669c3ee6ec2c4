"""Review API: queue filters and sorting, decisions with their audit trail, visibility, scopes, tenants."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.core.database import unit_of_work
from app.core.settings import Settings
from app.main import create_app
from app.models import Match, ReviewDecision, WebhookDelivery
from tests.app.support import authorize


def _compute_all(client: TestClient, *, k: int = 4) -> list[int]:
    needs = client.get("/api/v1/needs", params={"limit": 100}).json()["items"]
    for need in needs:
        assert client.post(f"/api/v1/needs/{need['id']}/matches", params={"k": k}).status_code == 200
    return [n["id"] for n in needs]


def _queue(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/review/queue", params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()


def _decide(client: TestClient, match_id: int, **body: Any) -> Any:
    return client.post(f"/api/v1/review/matches/{match_id}/decisions", json=body)


@pytest.fixture
def reviewed(loaded_client: TestClient) -> TestClient:
    _compute_all(loaded_client)
    return loaded_client


def test_queue_lists_proposed_matches_best_first(reviewed: TestClient) -> None:
    page = _queue(reviewed)
    scores = [item["score"] for item in page["items"]]
    assert page["total"] == len(page["items"]) > 10
    assert scores == sorted(scores, reverse=True)
    assert {item["status"] for item in page["items"]} == {"proposed"}
    ascending = [item["score"] for item in _queue(reviewed, sort="score_asc")["items"]]
    assert ascending == sorted(scores)


def test_queue_filters_and_paging(reviewed: TestClient) -> None:
    everything = _queue(reviewed)["items"]
    company_id = everything[0]["company_id"]
    provider_id = everything[0]["provider_id"]
    category = everything[0]["categories"][0]
    assert {i["company_id"] for i in _queue(reviewed, company_id=company_id)["items"]} == {company_id}
    assert {i["provider_id"] for i in _queue(reviewed, provider_id=provider_id)["items"]} == {provider_id}
    in_category = _queue(reviewed, category=category)["items"]
    assert in_category and all(category in i["categories"] for i in in_category)
    assert len(in_category) < len(everything)
    middle = sorted(i["score"] for i in everything)[len(everything) // 2]
    high = _queue(reviewed, min_score=middle)["items"]
    assert high and all(i["score"] >= middle for i in high) and len(high) < len(everything)
    low = _queue(reviewed, max_score=middle)["items"]
    assert all(i["score"] <= middle for i in low)
    first = reviewed.get("/api/v1/review/queue", params={"limit": 3, "offset": 0}).json()
    second = reviewed.get("/api/v1/review/queue", params={"limit": 3, "offset": 3}).json()
    assert [i["match_id"] for i in first["items"] + second["items"]] == [i["match_id"] for i in everything[:6]]
    assert first["total"] == len(everything)


def test_queue_rejects_bad_filters(reviewed: TestClient) -> None:
    assert reviewed.get("/api/v1/review/queue", params={"status": "maybe"}).status_code == 422
    assert reviewed.get("/api/v1/review/queue", params={"sort": "random"}).status_code == 422
    response = reviewed.get("/api/v1/review/queue", params={"min_score": 0.9, "max_score": 0.1})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_approve_edit_reject_reopen_leave_an_append_only_history(reviewed: TestClient, loaded_app: FastAPI) -> None:
    item = _queue(reviewed)["items"][0]
    match_id = item["match_id"]
    original = item["summary"]

    approved = _decide(reviewed, match_id, action="approve_edited", summary="Checked by phone: a fit.")
    assert approved.status_code == 201, approved.text
    body = approved.json()
    assert body["before"]["status"] == "proposed" and body["after"]["status"] == "approved"
    assert body["before"]["summary"] == original and body["after"]["summary"] == "Checked by phone: a fit."
    assert body["actor_kind"] == "api_key"

    assert _decide(reviewed, match_id, action="reopen").status_code == 201
    rejected = _decide(reviewed, match_id, action="reject", reason_code="not_relevant", reason_text="wrong process")
    assert rejected.status_code == 201

    detail = reviewed.get(f"/api/v1/review/matches/{match_id}").json()
    assert detail["status"] == "rejected"
    assert detail["explanation"]["summary"] == "Checked by phone: a fit."
    assert detail["explanation_edited"] is True
    assert [h["action"] for h in detail["history"]] == ["approve_edited", "reopen", "reject"]
    assert detail["history"][2]["reason_code"] == "not_relevant"
    assert detail["history"][2]["reason_text"] == "wrong process"
    assert [h["after"]["review_version"] for h in detail["history"]] == [1, 2, 3]
    with unit_of_work(loaded_app.state.session_factory) as session:
        assert session.get(Match, match_id) is not None
        rows = session.scalars(select(ReviewDecision).where(ReviewDecision.match_id == match_id)).all()
        assert len(rows) == 3
        rows[0].reason_text = "rewritten"
        with pytest.raises(PermissionError):
            session.flush()
        session.rollback()
        session.delete(rows[0])
        with pytest.raises(PermissionError):
            session.flush()
        session.rollback()


def test_approved_matches_become_visible_to_the_sme(reviewed: TestClient) -> None:
    item = _queue(reviewed)["items"][0]
    need_id = item["need_id"]
    assert reviewed.get(f"/api/v1/needs/{need_id}/matches").json()["items"] == []
    _decide(reviewed, item["match_id"], action="approve_edited", summary="Edited for the SME.")
    visible = reviewed.get(f"/api/v1/needs/{need_id}/matches").json()
    assert visible["includes_unreviewed"] is False
    assert [(m["technology_id"], m["status"], m["reviewed"]) for m in visible["items"]] == [
        (item["technology_id"], "approved", True)
    ]
    assert visible["items"][0]["explanation"]["summary"] == "Edited for the SME."


def test_setting_shows_unreviewed_matches_marked(loaded_settings: Settings) -> None:
    settings = loaded_settings.model_copy(update={"show_unreviewed": True})
    with TestClient(create_app(settings)) as client:
        authorize(client)
        need_id = _compute_all(client)[0]
        item = _queue(client, need_id=need_id)["items"][0]
        _decide(client, item["match_id"], action="approve")
        items = client.get(f"/api/v1/needs/{need_id}/matches").json()["items"]
    assert {(m["status"], m["reviewed"]) for m in items} == {("approved", True), ("proposed", False)}


def test_reject_needs_a_valid_reason(reviewed: TestClient) -> None:
    match_id = _queue(reviewed)["items"][0]["match_id"]
    assert _decide(reviewed, match_id, action="reject").status_code == 422
    assert _decide(reviewed, match_id, action="reject", reason_code="bored").status_code == 422
    missing_text = _decide(reviewed, match_id, action="reject", reason_code="other")
    assert missing_text.status_code == 422
    assert missing_text.json()["errors"][0]["location"] == ["reason_text"]
    assert _decide(reviewed, match_id, action="approve_edited", summary="   ").status_code == 422
    assert _decide(reviewed, match_id, action="approve", reason_code="duplicate").status_code == 422
    assert reviewed.get(f"/api/v1/review/matches/{match_id}/history").json() == []


def test_stale_or_repeated_decisions_conflict(reviewed: TestClient) -> None:
    match_id = _queue(reviewed)["items"][0]["match_id"]
    assert _decide(reviewed, match_id, action="approve", expected_version=0).status_code == 201
    stale = _decide(reviewed, match_id, action="reject", reason_code="duplicate", expected_version=0)
    assert stale.status_code == 409
    assert "changed since" in stale.json()["detail"]
    assert _decide(reviewed, match_id, action="approve").status_code == 409
    assert _decide(reviewed, match_id, action="reopen", expected_version=1).status_code == 201
    assert _decide(reviewed, match_id, action="reopen").status_code == 409
    assert len(reviewed.get(f"/api/v1/review/matches/{match_id}/history").json()) == 2


def test_bulk_approve_and_reject(reviewed: TestClient, loaded_app: FastAPI) -> None:
    ids = [i["match_id"] for i in _queue(reviewed)["items"][:5]]
    _decide(reviewed, ids[0], action="approve")
    response = reviewed.post("/api/v1/review/decisions/bulk", json={"match_ids": ids[:3], "action": "approve"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["done"], result["skipped"]) == (2, 1)
    assert result["items"][0] == {"match_id": ids[0], "done": False, "detail": "the match is already approved"}
    no_reason = reviewed.post("/api/v1/review/decisions/bulk", json={"match_ids": ids[3:], "action": "reject"})
    assert no_reason.status_code == 422
    rejected = reviewed.post(
        "/api/v1/review/decisions/bulk",
        json={"match_ids": ids[3:], "action": "reject", "reason_code": "wrong_category"},
    ).json()
    assert rejected["done"] == 2
    unknown = reviewed.post("/api/v1/review/decisions/bulk", json={"match_ids": [ids[0], 999_999], "action": "approve"})
    assert unknown.status_code == 404
    reopen = reviewed.post("/api/v1/review/decisions/bulk", json={"match_ids": ids, "action": "reopen"})
    assert reopen.status_code == 422
    with unit_of_work(loaded_app.state.session_factory) as session:
        assert session.scalar(select(func.count()).select_from(ReviewDecision)) == 5
    statuses = {i["match_id"]: i["status"] for i in _queue(reviewed, status="all")["items"]}
    assert [statuses[i] for i in ids] == ["approved"] * 3 + ["rejected"] * 2


def test_recent_decisions_newest_first_named_and_paged(reviewed: TestClient) -> None:
    items = _queue(reviewed)["items"][:3]
    ids = [i["match_id"] for i in items]
    _decide(reviewed, ids[0], action="approve")
    _decide(reviewed, ids[1], action="reject", reason_code="duplicate")
    _decide(reviewed, ids[2], action="approve")
    log = reviewed.get("/api/v1/review/decisions").json()
    assert log["total"] == 3 and log["next_cursor"] is None
    assert [(d["match_id"], d["action"]) for d in log["items"]] == [
        (ids[2], "approve"),
        (ids[1], "reject"),
        (ids[0], "approve"),
    ]
    # Named, not just numbered: what a curator reads in the audit log.
    assert log["items"][1]["need_title"] == items[1]["need_title"]
    assert log["items"][1]["technology_title"] == items[1]["technology_title"]
    # Pages like every other list: a cursor continues with older decisions.
    first = reviewed.get("/api/v1/review/decisions", params={"limit": 2}).json()
    assert [d["match_id"] for d in first["items"]] == [ids[2], ids[1]] and first["next_cursor"]
    rest = reviewed.get("/api/v1/review/decisions", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [d["match_id"] for d in rest["items"]] == [ids[0]] and rest["next_cursor"] is None


def test_unknown_match_is_404(reviewed: TestClient) -> None:
    assert reviewed.get("/api/v1/review/matches/999999").status_code == 404
    assert _decide(reviewed, 999_999, action="approve").status_code == 404


def test_review_needs_the_review_scope(reviewed: TestClient) -> None:
    match_id = _queue(reviewed)["items"][0]["match_id"]
    authorize(reviewed, scopes=("needs:write", "matches:read"))
    assert reviewed.get("/api/v1/review/queue").status_code == 403
    assert _decide(reviewed, match_id, action="approve").status_code == 403
    del reviewed.headers["Authorization"]
    assert reviewed.get("/api/v1/review/queue").status_code == 401
    authorize(reviewed, scopes=("review",))
    assert _decide(reviewed, match_id, action="approve").status_code == 201


def test_another_tenant_sees_no_match_of_this_one(reviewed: TestClient) -> None:
    match_id = _queue(reviewed)["items"][0]["match_id"]
    authorize(reviewed, tenant="other-cluster", scopes=("review",))
    assert _queue(reviewed)["total"] == 0
    assert reviewed.get(f"/api/v1/review/matches/{match_id}").status_code == 404
    assert _decide(reviewed, match_id, action="approve").status_code == 404


def test_decisions_notify_webhook_subscribers(loaded_settings: Settings) -> None:
    # No worker, so deliveries stay pending; the receiver is on the allowlist an administrator keeps.
    settings = loaded_settings.model_copy(
        update={"webhook_worker": False, "webhook_allowed_hosts": ["hooks.example.org:443"]}
    )
    app = create_app(settings)
    with TestClient(app) as client:
        authorize(client)
        subscribed = client.post(
            "/api/v1/webhooks",
            json={"url": "https://hooks.example.org/techmatch", "events": ["match.approved", "match.rejected"]},
        )
        assert subscribed.status_code == 201, subscribed.text
        _compute_all(client)
        first, second, third = (i["match_id"] for i in _queue(client)["items"][:3])
        _decide(client, first, action="approve_edited", summary="Edited.")
        _decide(client, second, action="reject", reason_code="duplicate")
        _decide(client, second, action="reopen")
        bad = _decide(client, third, action="reject")  # refused: no delivery either
        assert bad.status_code == 422
        # Read while the app runs: its engine (and every pooled connection) is disposed when it stops.
        with unit_of_work(app.state.session_factory) as session:
            deliveries = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
            assert [(d.event, d.payload["match_id"]) for d in deliveries] == [
                ("match.approved", first),
                ("match.rejected", second),
            ]
            assert deliveries[0].payload["summary"] == "Edited."
            assert deliveries[1].payload["reason_code"] == "duplicate"


def test_a_decision_made_while_matches_are_recomputed_is_kept_and_not_proposed_again(
    reviewed: TestClient, loaded_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The match runs outside the transaction; a curator's decision landing meanwhile survives it."""
    item = _queue(reviewed)["items"][0]
    need_id, technology_id = item["need_id"], item["technology_id"]
    matcher = loaded_app.state.matcher
    match = matcher.match

    def match_while_a_curator_approves(*args: Any, **kwargs: Any) -> Any:
        results = match(*args, **kwargs)
        with unit_of_work(loaded_app.state.session_factory) as session:
            session.get(Match, item["match_id"]).status = "approved"
        return results

    monkeypatch.setattr(matcher, "match", match_while_a_curator_approves)
    response = reviewed.post(f"/api/v1/needs/{need_id}/matches", params={"k": 4})
    assert response.status_code == 200, response.text
    rows = [(m["technology_id"], m["status"]) for m in response.json()["items"]]
    assert rows.count((technology_id, "approved")) == 1
    assert (technology_id, "proposed") not in rows
