"""The speed benchmark's mechanics at tiny sizes with the hashing encoder: JSON shape, no errors (no timings)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.app.databases import empty_database

pytestmark = pytest.mark.server

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def test_bench_quick_json_has_every_figure(tmp_path: Path) -> None:
    command = [
        sys.executable,
        str(SCRIPTS / "bench.py"),
        "ingest",
        "index",
        "online",
        "cold",
        "--quick",
        "--json",
        "--model",
        "hashing",
        "--tiny",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])

    ingest = report["ingest"]
    assert ingest["texts_encoded_first_load"] == ingest["technologies"]
    assert ingest["texts_encoded_reload"] == 0
    assert ingest["texts_encoded_rebuild"] == 0
    assert ingest["reload_outcome"] == "loaded"
    assert ingest["ratio_bare_over_load"] > 0

    index = report["index"]["2000"]
    assert index["kind"] == "ivf-sq8-ip"
    assert 0 <= index["recall_at_10"] <= 1
    assert index["removed"] == 1000 and index["removed_found_after"] == 0
    assert index["updated_found_first"] == 100
    assert index["size_after_edits"] == index["count"] - 900

    online = report["online"]
    assert online["errors"] == 0
    assert set(online["batched"]) == {"1", "8", "32"}
    for phase in online["batched"].values():
        assert phase["throughput_rps"] > 0
        assert phase["p99_ms"] >= phase["p50_ms"] > 0

    cold = report["cold"]
    # Green means the index holds what the database holds; without a key /readyz counts nothing.
    assert cold["readyz"] == {"status": "ready"}
    assert cold["ready_saved_index_s"] > 0


def test_bench_signin_json_has_both_medians_and_the_guesses(tmp_path: Path) -> None:
    command = [sys.executable, str(SCRIPTS / "bench_signin.py"), "--quiet-seconds", "2", "--guess-seconds", "4"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["guessers"] == 8 and report["quiet_median_ms"] > 0 and report["guessing_median_ms"] > 0
    assert report["ratio"] == pytest.approx(report["guessing_median_ms"] / report["quiet_median_ms"], rel=0.05)
    # Every guess was answered as a failed, throttled or busy sign-in: none got in, none broke the server.
    assert report["guesses"] > 0 and set(report["guesses_by_status"]) <= {"401", "429", "503"}


def test_bench_replicas_case_has_every_figure(tmp_path: Path) -> None:
    command = [
        sys.executable,
        str(SCRIPTS / "bench.py"),
        "replicas",
        "--quick",
        "--tiny",
        "--json",
        "--model",
        "hashing",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    replicas = json.loads(result.stdout.strip().splitlines()[-1])["replicas"]
    assert replicas["errors"] == 0
    for workers in ("workers_1", "workers_2"):
        assert replicas[workers]["throughput_rps"] > 0
    assert replicas["throughput_2_workers_over_1"] > 0
    writers = replicas["writers_sqlite"]
    assert writers["with_log_writes_per_s"] and writers["without_log_writes_per_s"]
    lag = replicas["lag_sqlite"]
    assert lag["caught_up"] and lag["full_syncs"] == 0 and lag["applied_changes"] == lag["writes"]
    assert lag["lag_max_ms"] >= lag["lag_p50_ms"] > 0


def test_bench_batch_case_compares_ray_with_in_process(tmp_path: Path) -> None:
    command = [sys.executable, str(SCRIPTS / "bench.py"), "batch", "--json", "--model", "hashing", "--tiny"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    batch = json.loads(result.stdout.strip().splitlines()[-1])["batch"]

    # Every text comes back once from the actors, with the vector the in-process encoder gives it.
    assert batch["rows_back"] == batch["distinct_rows_back"] == batch["texts"]
    assert batch["min_cosine"] > 0.999
    assert batch["actors"] == 2 and batch["cpus_per_actor"] == 0.5
    assert batch["in_process_texts_per_s"] > 0 and batch["ray_texts_per_s"] > 0
    assert batch["ratio_ray_over_in_process"] > 0


@pytest.mark.skipif(
    not os.environ.get("TECHMATCH_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="needs PostgreSQL with pgvector: bash scripts/test-postgres.sh tests/scripts/test_bench.py",
)
def test_bench_backends_case_measures_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    command = [sys.executable, str(SCRIPTS / "bench.py"), "backends", "--json", "--tiny"]
    # The bench wants a database without techmatch's tables: one of its own beside the run's.
    with empty_database("bench") as url:
        monkeypatch.setenv("TECHMATCH_TEST_DATABASE_URL", url)
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    backends = json.loads(result.stdout.strip().splitlines()[-1])["backends"]

    assert backends["count"] == 2000
    assert backends["faiss"]["kind"] == "flat-ip"
    assert backends["pgvector"]["uses_hnsw_index"] is True
    for side in ("faiss", "pgvector"):
        assert 0.5 <= backends[side]["recall_at_10"] <= 1
        assert backends[side]["search_ms_per_query"] > 0
    assert backends["pgvector"]["index_mb"] > 0
