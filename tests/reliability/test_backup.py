"""Backup while serving and restore: everything comes back, the index is rebuilt; bad backups are refused."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import httpx
import pytest

from app.backup.service import COUNTED, BackupError, backup, restore
from scripts.liveserver import LiveServer, prepare, server_env, techmatch
from tests.app.support import MINI
from tests.reliability.invariants import Ledger, check_database, check_index

# Every table whose content must come back (the schema's own bookkeeping included).
SKIP = {"sqlite_sequence"}


def _dump(database: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(database) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {
            name: sorted(db.execute(f"SELECT * FROM {name}").fetchall(), key=repr)
            for name in tables
            if name not in SKIP
        }


@pytest.mark.server
def test_backup_while_serving_and_restore_round_trip(tmp_path: Path) -> None:
    live = tmp_path / "live"
    env = server_env(live)
    key = prepare(live, dataset=MINI, env=env)
    server = LiveServer(live, env)
    server.start()
    server.wait_ready(timeout=120)
    stop = threading.Event()
    written: list[int] = []
    refused: list[str] = []  # the writer thread's failures, asserted here (a thread's assert reaches no one)

    def write() -> None:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
            company = client.get("/api/v1/companies").json()["items"][0]["id"]
            while not stop.is_set():
                response = client.post(
                    "/api/v1/needs", json={"company_id": company, "title": f"Backup need {len(written)}"}
                )
                if response.status_code != 201:
                    refused.append(f"{response.status_code}: {response.text[:200]}")
                    return
                written.append(response.json()["id"])
                client.post(f"/api/v1/needs/{written[-1]}/matches", params={"k": 3})

    def wait_for(count: int) -> None:
        while len(written) < count and writer.is_alive():
            stop.wait(0.1)

    writer = threading.Thread(target=write)
    writer.start()
    target = tmp_path / "backups" / "techmatch.sqlite"
    try:
        wait_for(5)
        output = techmatch("backup", str(target), env=env, cwd=live)  # while the writer writes
        wait_for(len(written) + 5)
    finally:
        stop.set()
        writer.join(60)
        server.stop()
    assert refused == []
    assert "backed up to" in output
    assert check_database(target, Ledger()) == []
    with sqlite3.connect(target) as db:
        in_backup = db.execute("SELECT COUNT(*) FROM needs WHERE title LIKE 'Backup need %'").fetchone()[0]
    assert 5 <= in_backup < len(written), "the backup is one snapshot taken mid-way, not the end state"

    # Restore into a new, empty installation; its start-up rebuilds the index from the restored embeddings.
    fresh = tmp_path / "fresh"
    fresh_env = server_env(fresh)
    fresh.mkdir()
    techmatch("restore", str(target), env=fresh_env, cwd=fresh)
    restored_db = fresh / "techmatch.db"
    assert _dump(restored_db) == _dump(target)
    assert not (fresh / "data" / "index").exists()
    server = LiveServer(fresh, fresh_env)
    server.start()
    try:
        ready = server.wait_ready(timeout=120, key=key)
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
            # The API key came back with the data, and so did the needs and their matches.
            needs = client.get("/api/v1/needs", params={"limit": 100}).json()
            assert needs["total"] == ready["needs"]
            assert client.post("/api/v1/match", json={"text": "welding robot"}).status_code == 200
    finally:
        server.stop()
    # There was no index before this start (restore removes any): this one was built from the restored data.
    assert check_index(restored_db, fresh / "data" / "index") == []


def test_restore_refuses_bad_backups_and_a_database_with_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'target.db'}"
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database" * 100)
    with pytest.raises(BackupError, match=r"not a SQLite database|cannot be opened"):
        restore(url, garbage, index_dir=tmp_path / "index")

    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    with pytest.raises(BackupError, match="not a techmatch database"):
        restore(url, foreign, index_dir=tmp_path / "index")

    good = tmp_path / "good.sqlite"
    with sqlite3.connect(good) as db:
        for name in COUNTED:
            db.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY)")
        db.execute("INSERT INTO needs VALUES (1)")
    restore(url, good, index_dir=tmp_path / "index")  # an empty target takes it
    with pytest.raises(BackupError, match="--force"):
        restore(url, good, index_dir=tmp_path / "index")
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "needs.faiss").write_bytes(b"old")
    report = restore(url, good, index_dir=tmp_path / "index", force=True)
    assert report.counts["needs"] == 1
    assert not (tmp_path / "index").exists(), "the old index must not be loaded against restored data"


def test_backup_refuses_to_overwrite(tmp_path: Path) -> None:
    source = tmp_path / "source.db"
    with sqlite3.connect(source) as db:
        for name in COUNTED:
            db.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY)")
    target = tmp_path / "b.sqlite"
    report = backup(f"sqlite:///{source}", target)
    assert report.counts == dict.fromkeys(COUNTED, 0)
    with pytest.raises(BackupError, match="exists"):
        backup(f"sqlite:///{source}", target)
