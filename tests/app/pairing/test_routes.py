"""Demo-day pairing through the API and the CLI: plans, revisions with history, exports."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.core.settings import Settings
from app.main import create_app
from tests.app.support import MINI, authorize, counting_matcher
from tests.factories import company_body, need_body

PLANS = "/api/v1/pairing-plans"


def _ids_by_ref(client: TestClient, resource: str) -> dict[str, int]:
    items = client.get(f"/api/v1/{resource}", params={"limit": 100}).json()["items"]
    return {item["ref"]: item["id"] for item in items}


@pytest.fixture
def ids(loaded_client: TestClient) -> dict[str, int]:
    return _ids_by_ref(loaded_client, "companies") | _ids_by_ref(loaded_client, "providers")


def plan_body(ids: dict[str, int], **fields: Any) -> dict[str, Any]:
    providers = [ids[p] for p in ("P1", "P2", "P3", "P4")]
    return {
        "name": "Aalborg demo day",
        "company_ids": [ids[c] for c in ("C1", "C2", "C3", "C4", "C5")],
        "provider_ids": providers,
        "capacities": {str(p): 2 for p in providers},
        "max_per_company": 2,
        "rounds": 2,
        "author": "facilitator@example.dk",
    } | fields


def _pair(company: int, provider: int) -> dict[str, int]:
    return {"company_id": company, "provider_id": provider}


def _pairs(plan: dict[str, Any]) -> set[tuple[int, int]]:
    return {(a["company_id"], a["provider_id"]) for a in plan["assignments"]}


def _assert_valid(plan: dict[str, Any]) -> None:
    assignments = plan["assignments"]
    per_company = Counter(a["company_id"] for a in assignments)
    per_provider = Counter(a["provider_id"] for a in assignments)
    assert max(per_company.values(), default=0) <= plan["max_per_company"]
    assert all(n <= plan["capacities"][str(p)] for p, n in per_provider.items())
    booked = Counter((a["round"], a["company_id"]) for a in assignments) + Counter(
        (a["round"], -a["provider_id"]) for a in assignments
    )
    assert max(booked.values(), default=0) <= 1  # one table per provider: nobody twice in a round
    assert all(1 <= a["round"] <= plan["totals"]["rounds"] for a in assignments)


def test_create_and_read_a_plan(loaded_client: TestClient, ids: dict[str, int]) -> None:
    response = loaded_client.post(PLANS, json=plan_body(ids))
    assert response.status_code == 201, response.text
    plan = response.json()
    assert response.headers["Location"] == f"{PLANS}/{plan['id']}"
    _assert_valid(plan)
    totals = plan["totals"]
    assert totals["optimal"] is True
    assert totals["total_score"] >= totals["greedy_total_score"] - 1e-9
    assert totals["bound"] == pytest.approx(totals["total_score"], abs=1e-6)
    assert totals["pairs"] == len(plan["assignments"]) > 0
    assert totals["rounds"] == 2 and totals["unscheduled"] == 0
    assert plan["revision"] == 1
    first = plan["assignments"][0]
    assert first["company_name"] and first["provider_ref"] in {"P1", "P2", "P3", "P4"}
    assert loaded_client.get(response.headers["Location"]).json() == plan

    listed = loaded_client.get(PLANS).json()
    assert listed["total"] == 1 and listed["items"][0]["totals"] == totals


def test_must_and_never_pairs_at_creation(loaded_client: TestClient, ids: dict[str, int]) -> None:
    must = (ids["C5"], ids["P1"])
    never = (ids["C3"], ids["P2"])
    plan = loaded_client.post(
        PLANS, json=plan_body(ids, must_pairs=[_pair(*must)], never_pairs=[_pair(*never)], fairness="coverage")
    ).json()
    assert must in _pairs(plan) and never not in _pairs(plan)
    assert next(a for a in plan["assignments"] if (a["company_id"], a["provider_id"]) == must)["locked"]
    assert plan["unassigned_company_ids"] == [] and plan["totals"]["covered_companies"] == 5


def test_must_pairs_beyond_a_providers_slots_are_a_422_problem(loaded_client: TestClient, ids: dict[str, int]) -> None:
    body = plan_body(ids, must_pairs=[_pair(ids[c], ids["P1"]) for c in ("C1", "C2", "C3")])
    response = loaded_client.post(PLANS, json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "must-pairs need 3 demos at provider" in response.json()["detail"]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"company_ids": [999]}, "company_ids"),
        ({"capacities": {}}, "capacity"),
        ({"fairness": "lottery"}, "fairness"),
        ({"min_score": 2}, "min_score"),
        ({"company_ids": []}, "company_ids"),
    ],
)
def test_bad_plan_requests_are_422(
    loaded_client: TestClient, ids: dict[str, int], change: dict[str, Any], fragment: str
) -> None:
    response = loaded_client.post(PLANS, json=plan_body(ids) | change)
    assert response.status_code == 422, response.text
    assert fragment in response.text


def test_revisions_lock_remove_and_keep_history(loaded_client: TestClient, ids: dict[str, int]) -> None:
    plan = loaded_client.post(PLANS, json=plan_body(ids)).json()
    url = f"{PLANS}/{plan['id']}/revisions"
    removed = sorted(_pairs(plan))[0]
    all_pairs = {(ids[c], ids[p]) for c in ("C1", "C2", "C3", "C4", "C5") for p in ("P1", "P2", "P3", "P4")}
    locked = sorted(all_pairs - _pairs(plan))[0]

    response = loaded_client.post(
        url, json={"lock": [_pair(*locked)], "remove": [_pair(*removed)], "author": "anna", "note": "swap"}
    )
    assert response.status_code == 201, response.text
    second = response.json()
    assert second["revision"] == 2
    assert locked in _pairs(second) and removed not in _pairs(second)
    assert {(p["company_id"], p["provider_id"]) for p in second["never_pairs"]} == {removed}
    _assert_valid(second)

    # A later revision keeps the removal; removing the locked pair unlocks it.
    third = loaded_client.post(url, json={"remove": [_pair(*locked)], "author": "bo"}).json()
    assert removed not in _pairs(third) and locked not in _pairs(third)
    assert third["must_pairs"] == []

    history = loaded_client.get(url).json()
    assert history["plan_id"] == plan["id"]
    revisions = history["items"]
    assert [r["number"] for r in revisions] == [1, 2, 3]
    assert [r["author"] for r in revisions] == ["facilitator@example.dk", "anna", "bo"]
    assert revisions[1]["note"] == "swap"
    assert revisions[1]["locked"] == [_pair(*locked)] and revisions[1]["removed"] == [_pair(*removed)]
    assert _pair(*removed) in revisions[1]["dropped"] and _pair(*locked) in revisions[1]["added"]
    assert revisions[1]["created_at"] <= revisions[2]["created_at"]
    assert all(r["totals"]["total_score"] > 0 for r in revisions)
    assert loaded_client.get(f"{PLANS}/{plan['id']}").json()["revision"] == 3


def test_bad_revisions(loaded_client: TestClient, ids: dict[str, int]) -> None:
    plan = loaded_client.post(PLANS, json=plan_body(ids, company_ids=[ids["C1"], ids["C2"]])).json()
    url = f"{PLANS}/{plan['id']}/revisions"
    assert loaded_client.post(url, json={}).status_code == 422
    stranger = loaded_client.post(url, json={"lock": [_pair(ids["C5"], ids["P1"])]})
    assert stranger.status_code == 422 and "not in the plan" in stranger.json()["detail"]
    both = _pair(ids["C1"], ids["P1"])
    assert loaded_client.post(url, json={"lock": [both], "remove": [both]}).status_code == 422
    missing = loaded_client.post(f"{PLANS}/999/revisions", json={"remove": [both]})
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    for suffix in ("", "/revisions", "/export.csv", "/export.html", "/heatmap.png"):
        assert loaded_client.get(f"{PLANS}/999{suffix}").status_code == 404


def test_csv_export_is_safe_from_formula_injection(loaded_client: TestClient, ids: dict[str, int]) -> None:
    evil = loaded_client.post(
        "/api/v1/companies", json=company_body(name='=HYPERLINK("http://evil.example","x")')
    ).json()
    also = loaded_client.post("/api/v1/companies", json=company_body(name="@SUM(A1:A2)", ref="EV2")).json()
    loaded_client.post("/api/v1/needs", json=need_body(company_id=evil["id"]))
    body = plan_body(
        ids,
        company_ids=[ids["C1"], evil["id"], also["id"]],
        must_pairs=[_pair(evil["id"], ids["P1"]), _pair(also["id"], ids["P2"])],
    )
    plan = loaded_client.post(PLANS, json=body).json()
    response = loaded_client.get(f"{PLANS}/{plan['id']}/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == plan["totals"]["pairs"]
    names = {row["company"] for row in rows}
    assert '\'=HYPERLINK("http://evil.example","x")' in names and "'@SUM(A1:A2)" in names
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())
    assert {"round", "table", "provider", "company", "score", "locked"} <= rows[0].keys()


def test_printable_page_and_heat_map(loaded_client: TestClient, ids: dict[str, int]) -> None:
    sneaky = loaded_client.post("/api/v1/companies", json=company_body(name="<script>alert(1)</script>")).json()
    plan = loaded_client.post(PLANS, json=plan_body(ids, company_ids=[ids["C1"], ids["C3"], sneaky["id"]])).json()
    page = loaded_client.get(f"{PLANS}/{plan['id']}/export.html")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "@media print" in html and "Aalborg demo day" in html
    assert "Technology providers" in html and "SMEs" in html
    assert "Nordlys Robotics ApS" in html and "Brønderslev Steel ApS" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "no demonstrations" in html  # the sneaky company has no needs, so no demo

    assert '<a href="heatmap.png">' in html  # the page links the picture, relative to itself
    image = loaded_client.get(f"{PLANS}/{plan['id']}/heatmap.png")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n")


# -- the CLI ---------------------------------------------------------------------------------


def test_pair_json_on_the_fixture(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["pair", str(MINI), "--json", "--rounds", "2", "--fairness", "coverage"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("total_score", "greedy_total_score", "optimal", "bound", "pairs", "unassigned_companies", "seconds"):
        assert key in report
    assert report["optimal"] is True
    assert report["pairs"] > 0 and report["rounds"] == 2
    assert report["unassigned_companies"] == 0
    assert report["bound"] == pytest.approx(report["total_score"], abs=1e-6)
    assert not (tmp_path / "cli.db").exists()  # a throw-away database

    table = runner.invoke(cli, ["pair", str(MINI)])
    assert table.exit_code == 0, table.output
    assert "Nordlys Robotics ApS" in table.stdout and "greedy" in table.stdout


def test_pair_without_pairing_json_is_a_one_line_error(runner: CliRunner, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("providers", "technologies", "companies", "needs"):
        (bare / f"{name}.jsonl").write_text((MINI / f"{name}.jsonl").read_text("utf-8"), encoding="utf-8")
    result = runner.invoke(cli, ["pair", str(bare), "--json"])
    assert result.exit_code == 2
    assert "pairing.json" in result.stderr and result.stderr.strip().count("\n") == 0


def test_a_plan_after_a_restart_encodes_nothing_again(loaded_settings: Settings) -> None:
    """The sentence vectors a plan encoded are saved beside the index at stop and loaded at start."""
    body: dict[str, Any] = {}
    for restart in (False, True):
        matcher, encoder = counting_matcher()
        app = create_app(loaded_settings, matcher=matcher)
        with TestClient(app) as client:
            authorize(client)
            body = body or plan_body(_ids_by_ref(client, "companies") | _ids_by_ref(client, "providers"))
            matcher.need_categories(np.zeros(encoder.dimension, np.float32))  # category descriptions, once
            before = encoder.texts_encoded
            assert client.post(PLANS, json=body).status_code == 201
            encoded = encoder.texts_encoded - before
        assert encoded == 0 if restart else encoded > 0
    assert (loaded_settings.index_dir / "sentences.npz").is_file()
