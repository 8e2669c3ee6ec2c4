"""Batch jobs on a local Ray cluster: `techmatch batch encode` and `techmatch batch score` through the CLI."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import ray  # noqa: F401  (the batch extra, which `make test` installs: missing, these tests fail)
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.batch.repository import BatchRepository
from app.batch.service import missing_texts
from app.catalogue.loader import upsert_dataset
from app.cli import cli
from app.core.database import create_db_engine, create_session_factory, unit_of_work
from app.core.migrations import ensure_schema
from app.core.settings import Settings
from app.main import create_app
from app.models import Embedding, Match, MatchStatus
from matching.encoders.base import HASHING_MODEL
from matching.encoders.factory import load_encoder
from matching.encoders.names import GLOSSARY_MODEL
from matching.evaluation.datasets import load_dataset as read_dataset
from tests.app.support import HASHING_THRESHOLD, MINI, authorize, counting_matcher, started_app

pytestmark = pytest.mark.server  # a Ray cluster is other processes

# One actor on half a CPU: the test machine has two cores and other tests beside.
POOL = ["--actors", "2", "--cpus-per-actor", "0.5"]


@pytest.fixture
def rows_only(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    """The mini data set's rows, not a vector stored; the CLI pointed at the same database."""
    engine = create_db_engine(settings.database_url)
    ensure_schema(engine)
    with unit_of_work(create_session_factory(engine)) as session:
        upsert_dataset(session, dataset=read_dataset(MINI))
    engine.dispose()
    monkeypatch.setenv("TECHMATCH_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TECHMATCH_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("TECHMATCH_MODEL", HASHING_MODEL)
    monkeypatch.setenv("TECHMATCH_MATCH_THRESHOLD", str(HASHING_THRESHOLD))
    # No labels to calibrate on: what a start encodes is then the re-embedding alone.
    monkeypatch.setenv("TECHMATCH_DEMO_DIR", str(tmp_path / "no-labels"))
    return settings.model_copy(update={"demo_dir": tmp_path / "no-labels"})


def _last_json(output: str) -> dict:
    last = output.strip().splitlines()[-1] if output.strip() else ""
    assert last.startswith("{"), f"the last line is not the JSON report:\n{output[-3000:]}"
    return json.loads(last)


def _missing(settings: Settings) -> tuple[int, list[tuple[str, str]]]:
    engine = create_db_engine(settings.database_url)
    with unit_of_work(create_session_factory(engine)) as session:
        found = missing_texts(session, model=HASHING_MODEL, dimension=256)
    engine.dispose()
    return found


def test_encode_is_idempotent_resumable_and_leaves_nothing_to_a_restart(rows_only: Settings) -> None:
    read, missing = _missing(rows_only)
    assert missing and read >= len(missing)
    # A run stopped halfway: half the vectors are there already.
    half = missing[: len(missing) // 2]
    vectors = load_encoder(HASHING_MODEL).encode([t for _, t in half], kind="passage")
    engine = create_db_engine(rows_only.database_url)
    with unit_of_work(create_session_factory(engine)) as session:
        stored = BatchRepository(session).insert_vectors(
            model=HASHING_MODEL, hashes=[h for h, _ in half], vectors=vectors
        )
    assert stored == len(half)
    engine.dispose()

    runner = CliRunner()
    result = runner.invoke(cli, ["batch", "encode", "--ray-address", "local", *POOL, "--json"])
    assert result.exit_code == 0, result.output
    report = _last_json(result.stdout)
    assert report["job"] == "encode" and report["model"] == HASHING_MODEL and report["read"] == read
    assert report["todo"] == report["written"] == len(missing) - len(half)
    assert report["seconds"] > 0
    assert _missing(rows_only)[1] == []
    # Stored as the service would have stored them: the same vectors as encoding in process.
    engine = create_db_engine(rows_only.database_url)
    with unit_of_work(create_session_factory(engine)) as session:
        digest, text = missing[-1]
        stored = session.scalars(select(Embedding.vector).where(Embedding.text_hash == digest)).one()
        count = session.scalar(select(func.count()).select_from(Embedding))
    engine.dispose()
    np.testing.assert_array_equal(np.frombuffer(stored, dtype="<f4"), load_encoder(HASHING_MODEL).encode([text])[0])
    assert count == len(missing)

    # The rolling restart after it encodes nothing.
    matcher, encoder = counting_matcher()
    app = started_app(rows_only, matcher)
    assert app.state.index_sync.outcome == "rebuilt" and encoder.texts_encoded == 0

    # Nothing left: a second run reads everything and writes nothing.
    again = _last_json(runner.invoke(cli, ["batch", "encode", "--json"]).output)
    assert (again["todo"], again["written"]) == (0, 0)


def test_score_proposes_as_the_service_ranks_and_keeps_decisions(rows_only: Settings) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["batch", "encode", *POOL]).exit_code == 0
    app = create_app(rows_only)
    with TestClient(app) as client:
        authorize(client)
        need_id = client.get("/api/v1/needs").json()["items"][0]["id"]
        first = client.post(f"/api/v1/needs/{need_id}/matches", params={"k": 5}).json()["items"]
        approved, rejected = first[0]["technology_id"], first[1]["technology_id"]
        with unit_of_work(app.state.session_factory) as session:
            query = select(Match.technology_id, Match.id).where(Match.need_id == need_id)
            match_ids = {technology_id: ident for technology_id, ident in session.execute(query)}
        for technology_id, action in ((approved, "approve"), (rejected, "reject")):
            body = {"action": action} | ({"reason_code": "not_relevant"} if action == "reject" else {})
            response = client.post(f"/api/v1/review/matches/{match_ids[technology_id]}/decisions", json=body)
            assert response.status_code == 201, response.text

    result = runner.invoke(cli, ["batch", "score", *POOL, "--k", "5", "--json"])
    assert result.exit_code == 0, result.output
    report = _last_json(result.stdout)
    engine = create_db_engine(rows_only.database_url)
    factory = create_session_factory(engine)
    with unit_of_work(factory) as session:
        needs = session.scalar(select(func.count(func.distinct(Match.need_id))))
        rows = session.execute(
            select(Match.technology_id, Match.status, Match.rank, Match.score, Match.explanation).where(
                Match.need_id == need_id
            )
        ).all()
    assert report["job"] == "score" and report["read"] == report["todo"] == 8 and report["written"] > 0
    assert needs == 8 - report["needs_without_match"]
    by_technology = {row.technology_id: row for row in rows}
    assert by_technology[approved].status == MatchStatus.approved
    assert by_technology[rejected].status == MatchStatus.rejected  # kept, and not proposed again
    proposed = [row for row in rows if row.status == MatchStatus.proposed]
    assert proposed and all(row.explanation is None for row in proposed)
    live = sorted((row for row in rows if row.status != MatchStatus.rejected), key=lambda row: row.rank)
    assert [row.rank for row in live] == list(range(1, len(live) + 1))
    assert [row.score for row in live] == sorted((row.score for row in live), reverse=True)

    # The service, asked for the same need, proposes the same technologies with the same scores.
    with TestClient(create_app(rows_only)) as client:
        authorize(client)
        again = client.post(f"/api/v1/needs/{need_id}/matches", params={"k": 5}).json()["items"]
    service = {m["technology_id"]: m["score"] for m in again if m["status"] == "proposed"}
    batch = {row.technology_id: row.score for row in proposed}
    assert service.keys() == batch.keys()
    for technology_id, score in batch.items():
        assert service[technology_id] == pytest.approx(score, abs=1e-4)
    engine.dispose()


def _stored_vectors(settings: Settings, model: str) -> dict[str, np.ndarray]:
    engine = create_db_engine(settings.database_url)
    with unit_of_work(create_session_factory(engine)) as session:
        rows = session.execute(select(Embedding.text_hash, Embedding.vector).where(Embedding.model == model)).all()
    engine.dispose()
    return {digest: np.frombuffer(vector, dtype="<f4") for digest, vector in rows}


@pytest.mark.slow
def test_encode_through_the_real_model(rows_only: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each actor loads the packaged model; its vectors are the ones the service would compute in process."""
    monkeypatch.setenv("TECHMATCH_MODEL", GLOSSARY_MODEL)
    result = CliRunner().invoke(cli, ["batch", "encode", *POOL, "--json"])
    assert result.exit_code == 0, result.output
    report = _last_json(result.stdout)
    engine = create_db_engine(rows_only.database_url)
    with unit_of_work(create_session_factory(engine)) as session:
        _, missing = missing_texts(session, model=HASHING_MODEL, dimension=256)
    engine.dispose()
    assert report["model"] == GLOSSARY_MODEL and report["written"] == report["todo"] == len(missing)
    stored = _stored_vectors(rows_only, GLOSSARY_MODEL)
    in_process = load_encoder(GLOSSARY_MODEL).encode([text for _, text in missing], kind="passage")
    for (digest, _), expected in zip(missing, in_process, strict=True):
        assert float(stored[digest] @ expected) > 0.999


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_encode_on_a_cluster_started_with_ray_start(
    rows_only: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`--ray-address HOST:PORT`: the job joins a head started apart (loopback, token auth), stopped by its pid."""
    port, token = _free_port(), secrets.token_hex(16)
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token}
    command = [
        str(Path(sys.executable).parent / "ray"),
        "start",
        "--head",
        "--node-ip-address=127.0.0.1",
        f"--port={port}",
        "--num-cpus=2",
        "--include-dashboard=false",
        "--disable-usage-stats",
        "--block",
    ]
    environment = os.environ | auth | {"RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0"}
    with (tmp_path / "head.log").open("wb") as log:
        head = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert head.poll() is None, (tmp_path / "head.log").read_text()
            time.sleep(0.5)
        # The command as an operator runs it, in a process of its own with the cluster's token in its environment.
        techmatch = str(Path(sys.executable).parent / "techmatch")
        arguments = [techmatch, "batch", "encode", "--ray-address", f"127.0.0.1:{port}", *POOL, "--json"]
        result = subprocess.run(
            arguments, env=os.environ | auth, capture_output=True, text=True, timeout=300, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr + (tmp_path / "head.log").read_text()
        report = _last_json(result.stdout)
        assert report["ray_address"] == f"127.0.0.1:{port}" and report["written"] == report["todo"] > 0
        assert _missing(rows_only)[1] == []
    finally:
        head.terminate()
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
