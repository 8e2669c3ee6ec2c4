"""`techmatch import` and `techmatch export` through typer's test runner."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from app.cli import cli
from tests.app.support import MINI

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bulk"


def test_import_then_match_then_export(runner: CliRunner, tmp_path: Path) -> None:
    dry = runner.invoke(cli, ["import", "providers", str(FIXTURES / "providers.csv"), "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout.strip().splitlines()[-1])["created"] == 2

    for resource, path in (("providers", FIXTURES / "providers.csv"), ("technologies", FIXTURES / "technologies.csv")):
        result = runner.invoke(cli, ["import", resource, str(path)])
        assert result.exit_code == 0, result.output
    assert "3 created" in result.stdout
    # The saved index holds the imported rows: a match finds them without a rebuild.
    assert (tmp_path / "data" / "index" / "technologies.faiss").is_file()
    found = runner.invoke(cli, ["match", "weld seam inspection camera", "--k", "1", "--json"])
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout.strip().splitlines()[-1])["items"][0]["technology_ref"] == "BT1"

    target = tmp_path / "technologies.xlsx"
    exported = runner.invoke(cli, ["export", "technologies", "--format", "xlsx", "-o", str(target)])
    assert exported.exit_code == 0, exported.output
    sheet = openpyxl.load_workbook(io.BytesIO(target.read_bytes())).worksheets[0]
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["BT1", "BT2", "BT3"]

    jsonl = runner.invoke(cli, ["export", "technologies", "--format", "jsonl"])
    assert jsonl.exit_code == 0
    rows = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert rows[1]["price_eur"] == {"min": 15000, "max": None} and rows[1]["provider_id"] == "RB1"


def test_benchmark_files_import_like_load(runner: CliRunner) -> None:
    for resource in ("providers", "technologies", "companies", "needs"):
        result = runner.invoke(cli, ["import", resource, str(MINI / f"{resource}.jsonl"), "--json"])
        assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["created"] == 8
    again = runner.invoke(cli, ["import", "needs", str(MINI / "needs.jsonl"), "--json"])
    assert json.loads(again.stdout.strip().splitlines()[-1])["unchanged"] == 8


def test_problems_are_listed_and_exit_2(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["import", "providers", str(FIXTURES / "providers.csv")]).exit_code == 0
    result = runner.invoke(cli, ["import", "technologies", str(FIXTURES / "technologies_bad.csv")])
    assert result.exit_code == 2
    assert "nothing was imported" in result.stderr
    assert "telepathy" in result.stderr and "NOPE" in result.stderr
    exported = runner.invoke(cli, ["export", "technologies"])
    assert exported.stdout.strip().splitlines() == [
        "\ufeffref,provider_ref,provider_id,title,description,categories,sectors,trl,price_min_eur,price_max_eur,"
        "languages,regions_served,competences,id"
    ]


def test_unknown_format_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "companies.txt"
    path.write_text("ref,name\nC1,x\n")
    result = runner.invoke(cli, ["import", "companies", str(path)])
    assert result.exit_code == 2
    assert "--format" in result.stderr
