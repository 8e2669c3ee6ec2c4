"""Demo-day pairing through the API and the CLI: plans, revisions with history, exports."""

from __future__ import annotations

import csv
import io
import json
import re
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
    for suffix in (
        "",
        "/revisions",
        "/revisions/1",
        "/revisions/compare",
        "/export.csv",
        "/export.xlsx",
        "/export.html",
        "/heatmap.png",
    ):
        assert loaded_client.get(f"{PLANS}/999{suffix}").status_code == 404
    assert loaded_client.get(f"{PLANS}/{plan['id']}/revisions/7").status_code == 404
    assert loaded_client.get(f"{PLANS}/{plan['id']}/revisions/compare", params={"from": 5}).status_code == 404


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

    # Every link is relative to the page, so it works from wherever the page is served (a signed-in page later).
    links = re.findall(r'(?:href|src)="([^"]*)"', html)
    assert sorted(links) == ["export.csv", "export.xlsx", "heatmap.png"]
    assert plan["totals"]["summary"] in html.replace("&#x27;", "'")
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

    # The plan itself: one entry per demo with the offering behind it.
    assignments = report["assignments"]
    assert len(assignments) == report["pairs"]
    lines = (MINI / "technologies.jsonl").read_text("utf-8").splitlines()
    technologies = {row["id"]: row for row in map(json.loads, lines)}
    for item in assignments:
        assert set(item) == {
            "round",
            "table",
            "company_ref",
            "company",
            "provider_ref",
            "provider",
            "technology_ref",
            "technology",
            "need_ref",
            "need",
            "score",
            "locked",
        }
        assert 1 <= item["round"] <= 2 and item["table"] == 1 and 0 < item["score"] <= 1
        assert technologies[item["technology_ref"]]["provider_id"] == item["provider_ref"]
        assert technologies[item["technology_ref"]]["title"] == item["technology"]
    assert "ignoring fairness" in report["summary"]

    path = tmp_path / "plan.csv"
    table = runner.invoke(cli, ["pair", str(MINI), "--rounds", "2", "--fairness", "coverage", "--csv", str(path)])
    assert table.exit_code == 0, table.output
    assert "Nordlys" in table.stdout and "greedy" in table.stdout
    rows = list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))
    assert [(r["company_ref"], r["provider_ref"], r["technology_ref"], r["round"]) for r in rows] == [
        (a["company_ref"], a["provider_ref"], a["technology_ref"], str(a["round"])) for a in assignments
    ]


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


def test_each_pair_names_the_offering_and_need_behind_its_score(loaded_client: TestClient, ids: dict[str, int]) -> None:
    plan = loaded_client.post(PLANS, json=plan_body(ids)).json()
    technologies = {
        t["id"]: t for t in loaded_client.get("/api/v1/technologies", params={"limit": 100}).json()["items"]
    }
    needs = {n["id"]: n for n in loaded_client.get("/api/v1/needs", params={"limit": 100}).json()["items"]}
    for item in plan["assignments"]:
        technology, need = technologies[item["technology_id"]], needs[item["need_id"]]
        assert technology["provider_id"] == item["provider_id"] and need["company_id"] == item["company_id"]
        assert (item["technology_title"], item["technology_ref"]) == (technology["title"], technology["ref"])
        assert (item["need_title"], item["need_ref"]) == (need["title"], need["ref"])
    # ... and so does every later revision, re-optimised from the stored scores.
    first = plan["assignments"][0]
    revised = loaded_client.post(
        f"{PLANS}/{plan['id']}/revisions", json={"remove": [_pair(first["company_id"], first["provider_id"])]}
    ).json()
    assert all(item["technology_id"] is not None for item in revised["assignments"])


def test_totals_say_what_the_greedy_comparison_means(loaded_client: TestClient, ids: dict[str, int]) -> None:
    # One slot per provider and four SMEs that all want P1 most: greedy gives P1's slot to the best pair
    # and leaves an SME out; coverage gives everyone a demo at a lower total.
    providers = [ids["P1"], ids["P2"], ids["P3"], ids["P4"]]
    body = plan_body(
        ids, capacities={str(p): 1 for p in providers}, max_per_company=1, rounds=1, fairness="coverage", min_score=0.0
    )
    plan = loaded_client.post(PLANS, json=body).json()
    totals = plan["totals"]
    assert totals["greedy_covered_companies"] <= totals["covered_companies"]
    assert "ignoring fairness" in totals["summary"] and "greedy" in totals["summary"]
    if totals["greedy_total_score"] > totals["total_score"]:
        assert "more SME" in totals["summary"] and "without a demo" in totals["summary"]
    schema = loaded_client.get("/openapi.json").json()["components"]["schemas"]["PairingTotals"]["properties"]
    assert "ignoring fairness" in schema["greedy_total_score"]["description"]


def test_xlsx_export_holds_the_demos_and_the_totals(loaded_client: TestClient, ids: dict[str, int]) -> None:
    import openpyxl

    evil = loaded_client.post("/api/v1/companies", json=company_body(name="=1+1")).json()
    loaded_client.post("/api/v1/needs", json=need_body(company_id=evil["id"]))
    body = plan_body(ids, company_ids=[ids["C1"], ids["C2"], evil["id"]], must_pairs=[_pair(evil["id"], ids["P1"])])
    plan = loaded_client.post(PLANS, json=body).json()
    response = loaded_client.get(f"{PLANS}/{plan['id']}/export.xlsx")
    assert response.status_code == 200 and "spreadsheetml" in response.headers["content-type"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Demonstrations", "Totals"]
    rows = list(workbook["Demonstrations"].iter_rows(values_only=True))
    header, body_rows = rows[0], rows[1:]
    assert len(body_rows) == plan["totals"]["pairs"]
    assert {"round", "table", "provider", "company", "score", "technology", "need"} <= set(header)
    companies = {row[header.index("company")] for row in body_rows}
    assert "'=1+1" in companies  # shown as text, never run
    totals = {row[0]: row[1] for row in workbook["Totals"].iter_rows(min_row=2, values_only=True)}
    assert totals["summary"] == plan["totals"]["summary"]
    assert totals["total_score"] == pytest.approx(plan["totals"]["total_score"])


def test_two_revisions_compared(loaded_client: TestClient, ids: dict[str, int]) -> None:
    plan = loaded_client.post(PLANS, json=plan_body(ids, rounds=3)).json()
    url = f"{PLANS}/{plan['id']}"
    first = _pairs(plan)
    removed = sorted(first)[0]
    second = loaded_client.post(f"{url}/revisions", json={"remove": [_pair(*removed)], "author": "anna"}).json()
    comparison = loaded_client.get(f"{url}/revisions/compare").json()  # the current one against the one before
    assert (comparison["from_revision"], comparison["to_revision"]) == (1, 2)
    added = {(a["company_id"], a["provider_id"]) for a in comparison["added"]}
    gone = {(a["company_id"], a["provider_id"]) for a in comparison["removed"]}
    assert removed in gone and added == _pairs(second) - first and gone == first - _pairs(second)
    kept = first & _pairs(second)
    moved = {(m["company_id"], m["provider_id"]) for m in comparison["moved"]}
    assert moved <= kept and comparison["unchanged"] == len(kept) - len(moved)
    before, after = (
        {(a["company_id"], a["provider_id"]): a for a in plan["assignments"]},
        {(a["company_id"], a["provider_id"]): a for a in second["assignments"]},
    )
    assert moved == {
        p for p in kept if (before[p]["round"], before[p]["table"]) != (after[p]["round"], after[p]["table"])
    }
    total = comparison["totals"]["total_score"]
    assert total["before"] == plan["totals"]["total_score"] and total["after"] == second["totals"]["total_score"]
    assert total["change"] == pytest.approx(total["after"] - total["before"])
    assert comparison["totals_before"]["pairs"] == plan["totals"]["pairs"]

    same = loaded_client.get(f"{url}/revisions/compare", params={"from": 2, "to": 2}).json()
    assert same["added"] == same["removed"] == same["moved"] == [] and same["unchanged"] == len(_pairs(second))
    backwards = loaded_client.get(f"{url}/revisions/compare", params={"from": 2, "to": 1}).json()
    assert {(a["company_id"], a["provider_id"]) for a in backwards["added"]} == gone

    detail = loaded_client.get(f"{url}/revisions/1").json()
    assert detail["number"] == 1 and _pairs(detail) == first
    assert detail["totals"] == plan["totals"]


def test_a_greedy_total_above_the_plans_reads_as_what_it_is() -> None:
    from app.pairing.schemas import PairingTotals
    from app.pairing.service import totals_summary

    figures = PairingTotals(
        total_score=51.61,
        expected_useful_demonstrations=51.61,
        greedy_total_score=52.60,
        greedy_covered_companies=47,
        optimal=True,
        bound=51.61,
        gap=0.0,
        pairs=150,
        covered_companies=60,
        unassigned_companies=0,
        worst_best_score=0.31,
        rounds=6,
        unscheduled=0,
        seconds=0.02,
    )
    text = totals_summary(figures, fairness="coverage", companies=60)
    assert text == (
        "51.6 useful demonstrations expected from 150 demos; 60 of 60 SMEs get a demo. Aim: as many SMEs as "
        "possible with a demo first, then the most useful demonstrations (proven optimal). For comparison, greedy "
        "(best pairs first, ignoring fairness): 52.6 with 47 SMEs given a demo; its higher total leaves 13 more "
        "SMEs without a demo, which this plan's fairness does not allow."
    )
    older = figures.model_copy(update={"greedy_covered_companies": None, "greedy_total_score": 50.0})
    assert totals_summary(older, fairness="none", companies=60).endswith("ignoring fairness): 50.0.")


def test_a_plan_carries_its_day_and_slot_length(loaded_client: TestClient, ids: dict[str, int]) -> None:
    plan = loaded_client.post(PLANS, json=plan_body(ids, event_date="2027-03-18", slot_minutes=20)).json()
    assert (plan["event_date"], plan["slot_minutes"]) == ("2027-03-18", 20)
    listed = loaded_client.get(PLANS).json()["items"]
    assert any(item["id"] == plan["id"] and item["event_date"] == "2027-03-18" for item in listed)
    for wrong in ({"slot_minutes": 2}, {"event_date": "March"}):
        assert loaded_client.post(PLANS, json=plan_body(ids, **wrong)).status_code == 422
