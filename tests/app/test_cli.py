"""The techmatch command line through typer's test runner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from tests.app.support import MINI, authorize


def _last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def test_load_then_match(runner: CliRunner, tmp_path: Path) -> None:
    loaded = runner.invoke(cli, ["load", str(MINI)])
    assert loaded.exit_code == 0, loaded.output
    assert "technologies" in loaded.stdout
    assert (tmp_path / "data" / "index" / "technologies.faiss").is_file()

    again = runner.invoke(cli, ["load", str(MINI)])
    assert again.exit_code == 0
    assert "index loaded" in again.stdout  # nothing changed, nothing rebuilt

    result = runner.invoke(
        cli, ["match", "Scratches and black specks on injection moulded parts", "--k", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = _last_json(result.stdout)
    assert len(payload["items"]) == 3
    assert payload["items"][0]["technology_ref"] == "T05"
    assert payload["items"][0]["explanation"]["summary"]

    table = runner.invoke(cli, ["match", "label check on food packs", "--region", "DK-82"])
    assert table.exit_code == 0
    assert "T06" in table.stdout


def test_match_on_empty_catalogue(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["match", "anything"])
    assert result.exit_code == 0
    assert "techmatch load" in result.stdout


def test_match_says_nothing_fits_on_a_loaded_catalogue(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    assert runner.invoke(cli, ["load", str(MINI)]).exit_code == 0
    # No hashing score reaches 0.99: the answer is the plain "nothing fits", not the empty-catalogue hint.
    monkeypatch.setenv("TECHMATCH_MATCH_THRESHOLD", "0.99")
    result = runner.invoke(cli, ["match", "Who bakes the cake for the summer party?"])
    assert result.exit_code == 0, result.output
    assert "techmatch load" not in result.stdout
    assert "nothing" in result.stdout.lower()


def test_eval_json(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["eval", str(MINI), "--mode", "dense", "--json"])
    assert result.exit_code == 0, result.output
    report = _last_json(result.stdout)
    assert {"ndcg@10", "recall@10", "mrr@10", "queries", "mode", "dataset", "by_language"} <= (report.keys())
    assert 0 <= report["ndcg@10"] <= 1
    assert (report["queries"], report["mode"], report["dataset"]) == (8, "dense", "mini")
    assert set(report["by_language"]) == {"en", "da"}
    assert report["by_language"]["da"]["queries"] == 3


def test_eval_reports_calibration_and_nothing_fits_and_plots(runner: CliRunner, tmp_path: Path) -> None:
    data = tmp_path / "mini-offtopic"
    shutil.copytree(MINI, data)
    with (data / "needs.jsonl").open("a", encoding="utf-8") as needs:
        needs.write(
            json.dumps(
                {
                    "id": "N99",
                    "company_id": "C1",
                    "title": "Who bakes the cake for the summer party?",
                    "description": "We need a caterer for 40 people in June.",
                    "lang": "en",
                    "constraints": {"budget_eur_max": None, "min_trl": None, "region": None, "languages": None},
                }
            )
            + "\n"
        )
    (data / "offtopic.txt").write_text("N99\n")
    plot = tmp_path / "reliability.png"
    result = runner.invoke(cli, ["eval", str(data), "--json", "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    report = _last_json(result.stdout)
    assert 0 <= report["ece"] <= 1 and 0 <= report["brier"] <= 1
    assert report["calibration_pairs"] > 0
    assert report["offtopic_needs"] == 1 and report["nothing_fits_recall"] in (0.0, 1.0)
    assert 0 <= report["false_nothing_fits"] <= 1
    assert report["ndcg@10_linear"] > 0 and report["queries"] == 8  # the off-topic need has no labels
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dense = runner.invoke(cli, ["eval", str(data), "--mode", "dense", "--plot", str(tmp_path / "x.png")])
    assert dense.exit_code == 2 and "hybrid" in dense.stderr


def test_eval_table_leaves_no_database_behind(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["eval", str(MINI), "--k", "5"])
    assert result.exit_code == 0, result.output
    assert "ndcg@5" in result.stdout
    assert not (tmp_path / "cli.db").exists()


@pytest.mark.parametrize("command", ["load", "eval"])
def test_missing_directory_is_a_one_line_error(runner: CliRunner, tmp_path: Path, command: str) -> None:
    result = runner.invoke(cli, [command, str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "not a directory" in result.stderr
    assert "Traceback" not in result.output


def test_bad_dataset_is_a_one_line_error(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("providers", "technologies", "companies", "needs"):
        (bad / f"{name}.jsonl").write_text("", encoding="utf-8")
    (bad / "technologies.jsonl").write_text('{"id": "T1", "title": 3}\n', encoding="utf-8")
    result = runner.invoke(cli, ["load", str(bad)])
    assert result.exit_code == 2
    assert "technologies.jsonl:1" in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_bad_option_value_is_an_error(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["match", "welding", "--region", "Atlantis"])
    assert result.exit_code == 2
    assert "region" in result.stderr


def test_serve_loads_the_demo_into_an_empty_database(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    served: dict = {}

    def fake_run(app: object, *, host: str, port: int, **options: object) -> None:
        served.update(app=app, host=host, port=port, options=options)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.setenv("TECHMATCH_DEMO_DIR", str(MINI))
    result = runner.invoke(cli, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert (served["host"], served["port"]) == ("127.0.0.1", 8123)
    # h11 stops buffering a request head at twice the app's own 431 limit (httptools does not stop).
    assert served["options"] == {"http": "h11", "h11_max_incomplete_event_size": 32_768}
    with TestClient(served["app"]) as client:
        authorize(client)
        assert client.get("/readyz").json()["technologies"] == 10

    # Not empty any more: a second start loads nothing.
    again = runner.invoke(cli, ["serve"])
    assert "demo" not in again.output
