"""Decisions change rankings: rejected pairs stay out, decided rows stay put, a learned model is stored and used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from app.cli import cli
from app.core.database import unit_of_work
from app.core.settings import Settings
from app.learning import service as learning
from app.main import create_app
from app.models import Match, MatchStatus, RankingModel
from matching.ranking.fusion import RankingWeights
from tests.app.support import MINI, authorize


def _ids_by_ref(client: TestClient, resource: str) -> dict[str, int]:
    items = client.get(f"/api/v1/{resource}", params={"limit": 100}).json()["items"]
    return {item["ref"]: item["id"] for item in items}


def _decide(app: FastAPI, *, need_id: int, technology_id: int, status: MatchStatus) -> None:
    with unit_of_work(app.state.session_factory) as session:
        changed = session.execute(
            update(Match).where(Match.need_id == need_id, Match.technology_id == technology_id).values(status=status)
        )
        assert changed.rowcount == 1  # type: ignore[attr-defined]


def _rows(app: FastAPI, need_id: int) -> dict[int, tuple[MatchStatus, float, int, dict | None]]:
    with unit_of_work(app.state.session_factory) as session:
        rows = session.scalars(select(Match).where(Match.need_id == need_id)).all()
        return {r.technology_id: (r.status, r.score, r.rank, r.explanation) for r in rows}


def test_a_rejected_pair_is_never_proposed_again_and_decided_rows_stay(
    loaded_client: TestClient, loaded_app: FastAPI
) -> None:
    need_id = _ids_by_ref(loaded_client, "needs")["N1"]
    every = len(_ids_by_ref(loaded_client, "technologies"))
    first = loaded_client.post(f"/api/v1/needs/{need_id}/matches", params={"k": every}).json()["items"]
    best, second = first[0]["technology_id"], first[1]["technology_id"]
    _decide(loaded_app, need_id=need_id, technology_id=best, status=MatchStatus.rejected)
    _decide(loaded_app, need_id=need_id, technology_id=second, status=MatchStatus.approved)
    decided_before = _rows(loaded_app, need_id)

    # Asking for the whole catalogue still leaves the rejected technology out, however well it scores.
    again = loaded_client.post(f"/api/v1/needs/{need_id}/matches", params={"k": every}).json()["items"]
    shown = [item["technology_id"] for item in again]
    assert best not in shown
    assert shown.count(second) == 1
    after = _rows(loaded_app, need_id)
    # The decided rows are the same rows: the rejected one untouched, the approved one with its status,
    # score and explanation; its rank is renumbered with the new proposals, so shown ranks run 1..n.
    assert after[best] == decided_before[best] and after[best][0] == MatchStatus.rejected
    status, score, _, explanation = after[second]
    before_status, before_score, _, before_explanation = decided_before[second]
    assert (status, score, explanation) == (MatchStatus.approved, before_score, before_explanation)
    assert before_status == MatchStatus.approved
    assert [item["rank"] for item in again] == list(range(1, len(again) + 1))
    # Also with the unreviewed ones shown, and for the SME (approved only).
    listed = loaded_client.get(f"/api/v1/needs/{need_id}/matches").json()["items"]
    assert [item["technology_id"] for item in listed] == [second]


def test_learning_needs_decisions(loaded_client: TestClient) -> None:
    response = loaded_client.post("/api/v1/admin/learn")
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "no curator decisions" in response.json()["detail"]
    assert loaded_client.get("/api/v1/admin/ranking-model").status_code == 404


def test_learning_takes_admin_scope(loaded_client: TestClient) -> None:
    authorize(loaded_client, scopes=("review",))
    assert loaded_client.post("/api/v1/admin/learn").status_code == 403


def _decide_mini(client: TestClient, app: FastAPI) -> tuple[int, int]:
    """Every need's proposals decided by a curator who goes by the category: a poor category fit, rejected."""
    needs = _ids_by_ref(client, "needs")
    rejected = approved = 0
    for need_id in needs.values():
        items = client.post(f"/api/v1/needs/{need_id}/matches", params={"k": 10}).json()["items"]
        for item in items:
            status = MatchStatus.approved if item["components"]["taxonomy"] >= 0.5 else MatchStatus.rejected
            _decide(app, need_id=need_id, technology_id=item["technology_id"], status=status)
            rejected += status == MatchStatus.rejected
            approved += status == MatchStatus.approved
    return approved, rejected


def test_learn_stores_applies_and_reloads_the_model(
    loaded_client: TestClient, loaded_app: FastAPI, loaded_settings: Settings
) -> None:
    approved, rejected = _decide_mini(loaded_client, loaded_app)
    response = loaded_client.post("/api/v1/admin/learn")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["decisions"], body["approved"], body["needs"]) == (approved + rejected, approved, 8)
    assert body["parts"] == ["weights", "neighbours"]
    assert body["voting_needs"] == 8 and body["prior_weight"] == 0.0
    assert body["trained_by"]
    # Decisions that contradict the default ranking move the weights their way.
    default = RankingWeights()
    assert body["weights"]["taxonomy"] / body["weights"]["dense"] > default.taxonomy / default.dense
    matcher = loaded_app.state.matcher
    assert matcher.weights == RankingWeights(**body["weights"])
    assert matcher.priors == pytest.approx(
        {int(t): body["prior_weight"] * p for t, p in body["priors"].items() if body["prior_weight"] * p}
    )
    assert loaded_client.get("/api/v1/admin/ranking-model").json() == body

    # Append-only: learning again adds a row, and the newest is the one in use.
    second = loaded_client.post("/api/v1/admin/learn").json()
    assert second["id"] != body["id"]
    with unit_of_work(loaded_app.state.session_factory) as session:
        assert len(session.scalars(select(RankingModel)).all()) == 2

    # A restarted server ranks with the stored model.
    with TestClient(create_app(loaded_settings)) as restarted:
        assert restarted.app.state.matcher.weights == RankingWeights(**second["weights"])  # type: ignore[attr-defined]


def test_another_tenant_sees_the_model_without_what_it_names_of_the_learner(
    loaded_settings: Settings,
) -> None:
    # An unshared catalogue: the priors of one tenant's technologies are not another's to see.
    app = create_app(loaded_settings.model_copy(update={"share_catalogue": False}))
    with TestClient(app) as client:
        authorize(client)
        _decide_mini(client, app)
        with unit_of_work(app.state.session_factory) as session:
            row = learning.learn(
                session,
                matcher=app.state.matcher,
                trained_by="north admin key",
                trained_by_tenant="default",
                parts=("weights", "priors"),
            )
            row_id = row.id
        own = client.get("/api/v1/admin/ranking-model").json()
        assert own["id"] == row_id and own["trained_by"] == "north admin key" and own["priors"]
        authorize(client, tenant="other")
        seen = client.get("/api/v1/admin/ranking-model").json()
    assert seen["id"] == row_id
    assert seen["trained_by"] is None
    assert seen["priors"] == {}
    assert seen["weights"] == own["weights"]  # the model itself is the same for everyone


def test_an_unreadable_stored_model_falls_back_to_the_defaults(loaded_settings: Settings) -> None:
    app = create_app(loaded_settings)
    with TestClient(app), unit_of_work(app.state.session_factory) as session:
        session.add(
            RankingModel(trained_by="test", format_version=99, decisions=1, approved=1, needs=1, model={"version": 99})
        )
    restarted = create_app(loaded_settings)
    with TestClient(restarted):
        assert restarted.state.matcher.weights == RankingWeights()
        assert restarted.state.matcher.priors == {}


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, loaded_settings: Settings) -> CliRunner:
    monkeypatch.setenv("TECHMATCH_DATABASE_URL", loaded_settings.database_url)
    monkeypatch.setenv("TECHMATCH_DATA_DIR", str(loaded_settings.data_dir))
    monkeypatch.setenv("TECHMATCH_MODEL", "hashing")
    return CliRunner()


def test_learn_command(runner: CliRunner, loaded_settings: Settings) -> None:
    empty = runner.invoke(cli, ["learn"])
    assert empty.exit_code == 2
    assert "no curator decisions" in empty.output
    app = create_app(loaded_settings)
    with TestClient(app) as client:
        authorize(client)
        _decide_mini(client, app)
    result = runner.invoke(cli, ["learn", "--json"])
    assert result.exit_code == 0, result.output
    payload = _last_json(result.stdout)
    assert (payload["decisions"], payload["needs"], payload["trained_by"]) == (80, 8, "techmatch learn")
    assert payload["weights"]["taxonomy"] > RankingWeights().taxonomy


def _last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def test_eval_feedback_command(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["eval-feedback", str(MINI), "--splits", "2", "--seed", "7", "--json"])
    assert result.exit_code == 0, result.output
    report = _last_json(result.stdout)
    assert (report["splits"], report["seed"], report["metric"]) == (2, 7, "ndcg@10")
    assert [row["seed"] for row in report["per_split"]] == [7, 8]
    for row in report["per_split"]:
        assert set(row["train_needs"]).isdisjoint(row["test_needs"])
        assert len(row["train_needs"]) + len(row["test_needs"]) == 8
    assert set(report["summary"]["weights+priors+neighbours"]) == {"all", "en", "da"}
    table = runner.invoke(cli, ["eval-feedback", str(MINI), "--splits", "1"])
    assert table.exit_code == 0 and "gain" in table.stdout
    missing = runner.invoke(cli, ["eval-feedback", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "not a directory" in missing.output


def test_engagement_outcomes_teach_the_ranking_and_override_curators(
    loaded_client: TestClient, loaded_app: FastAPI
) -> None:
    ids = _ids_by_ref(loaded_client, "companies") | _ids_by_ref(loaded_client, "providers")
    providers = [ids[p] for p in ("P1", "P2", "P3", "P4")]
    plan = loaded_client.post(
        "/api/v1/pairing-plans",
        json={
            "company_ids": [ids[c] for c in ("C1", "C2", "C3", "C4", "C5")],
            "provider_ids": providers,
            "default_capacity": 2,
            "max_per_company": 2,
        },
    ).json()
    created = loaded_client.post(f"/api/v1/pairing-plans/{plan['id']}/engagements", json={}).json()["created"]
    first, second, third = created[:3]

    def move(engagement: dict, stage: str, reason: str | None = None) -> None:
        body = {"stage": stage, "expected_version": engagement["version"], "reason_code": reason}
        assert loaded_client.post(f"/api/v1/engagements/{engagement['id']}/moves", json=body).status_code == 200

    # A decline for a reason that says nothing about the fit is no signal: still nothing to learn from.
    move(third, "declined", "no_capacity")
    assert loaded_client.post("/api/v1/admin/learn").status_code == 409

    move(first, "adopted")
    move(second, "declined", "not_relevant")
    # A curator rejected the pair that was later adopted: the outcome speaks for the pair.
    assert loaded_client.post(f"/api/v1/needs/{first['need_id']}/matches", params={"k": 10}).status_code == 200
    _decide(loaded_app, need_id=first["need_id"], technology_id=first["technology_id"], status=MatchStatus.rejected)
    with unit_of_work(loaded_app.state.session_factory) as session:
        decisions, weights = learning.decisions_and_weights(session)
    assert decisions[first["need_id"]][first["technology_id"]] is True
    assert decisions[second["need_id"]][second["technology_id"]] is False
    assert weights[first["need_id"]][first["technology_id"]] == learning.feedback.OUTCOME_WEIGHT
    assert third["technology_id"] not in decisions.get(third["need_id"], {})

    body = loaded_client.post("/api/v1/admin/learn")
    assert body.status_code == 201, body.text
    model = body.json()
    assert (model["outcomes"], model["adopted"]) == (2, 1)
    assert model["decisions"] == 2  # the curator's rejection gave way to the adoption
