"""Real server processes on one database: writes through all of them, one killed mid-way and restarted,
and afterwards every process holds exactly what the database holds."""

from __future__ import annotations

import itertools
import random
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.database import create_db_engine, create_session_factory, unit_of_work
from app.replication.service import database_digest
from scripts.liveserver import LiveServer, prepare, server_env
from tests.app.support import MINI

pytestmark = pytest.mark.server

WRITES_PER_WRITER = 40
WRITERS = 2


def _status(server: LiveServer, key: str) -> dict[str, Any]:
    response = httpx.get(
        f"{server.url}/api/v1/admin/replication", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def _write(client: httpx.Client, number: int, company_id: int, provider_id: int, mine: list[int]) -> int:
    """One write of a mixed stream: create, change or delete a need, or create a technology."""
    choice = number % 4
    if choice == 0 or not mine:
        body = {"company_id": company_id, "title": f"Need {number}", "description": f"Sorting part {number} by hand."}
        response = client.post("/api/v1/needs", json=body)
        if response.status_code == 201:
            mine.append(response.json()["id"])
        return response.status_code
    if choice == 1:
        need_id = random.choice(mine)
        return client.patch(f"/api/v1/needs/{need_id}", json={"description": f"Welding seam {number}."}).status_code
    if choice == 2:
        body = {"provider_id": provider_id, "title": f"Cell {number}", "description": f"Robot cell {number}."}
        return client.post("/api/v1/technologies", json=body).status_code
    return client.delete(f"/api/v1/needs/{mine.pop()}").status_code


def test_a_worker_killed_under_writes_rejoins_and_every_process_equals_the_database(
    database_url: str, tmp_path: Path
) -> None:
    # Two processes share a data dir (one machine), the third has its own (another machine).
    env = server_env(tmp_path, TECHMATCH_FOLLOW_POLL_SECONDS="0.2")
    env["TECHMATCH_DATABASE_URL"] = database_url
    key = prepare(tmp_path, dataset=MINI, env=env)
    servers = [
        LiveServer(tmp_path, env),
        LiveServer(tmp_path, env),
        LiveServer(tmp_path, {**env, "TECHMATCH_DATA_DIR": str(tmp_path / "other-machine")}),
    ]
    for server in servers:
        server.start()
    try:
        for server in servers:
            server.wait_ready(timeout=120)
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=servers[0].url, headers=headers, timeout=30) as client:
            company_id = client.get("/api/v1/companies").json()["items"][0]["id"]
            provider_id = client.get("/api/v1/providers").json()["items"][0]["id"]

        failures: list[str] = []
        done = {"writes": 0}
        halfway = threading.Event()
        live = list(servers)  # the writers skip a killed server

        def writer(seed: int) -> None:
            random.seed(seed)
            mine: list[int] = []
            clients = {s.url: httpx.Client(base_url=s.url, headers=headers, timeout=30) for s in servers}
            try:
                for number in range(WRITES_PER_WRITER):
                    server = live[(seed + number) % len(live)]
                    try:
                        status = _write(clients[server.url], seed * 1000 + number, company_id, provider_id, mine)
                    except httpx.TransportError:
                        continue  # the server was killed while answering; the write may or may not stand
                    if status not in (200, 201, 204):
                        failures.append(f"{server.url}: {status}")
                    done["writes"] += 1
                    if done["writes"] >= WRITERS * WRITES_PER_WRITER // 2:
                        halfway.set()
            finally:
                for c in clients.values():
                    c.close()

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
        for thread in threads:
            thread.start()
        assert halfway.wait(120)
        victim = servers[1]
        live.remove(victim)
        victim.kill()  # SIGKILL under writes: nothing saved, no shutdown
        time.sleep(0.5)
        victim.start()  # restarts while the others keep writing
        victim.wait_ready(timeout=120)
        live.append(victim)
        for thread in threads:
            thread.join(180)
        assert not failures, failures[:5]

        engine = create_db_engine(database_url)
        try:
            with unit_of_work(create_session_factory(engine)) as session:
                expected = database_digest(session)
        finally:
            engine.dispose()
        deadline = time.monotonic() + 30
        while True:
            statuses = [_status(server, key) for server in servers]
            if all(s["lag"]["versions"] == 0 for s in statuses) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        for server, status in zip(servers, statuses, strict=True):
            assert status["lag"]["versions"] == 0, (server.url, status)
            assert status["index_digest"] == expected, (server.url, status)
        # The restarted process resumed from a saved index through the log, no full rebuild.
        assert statuses[1]["full_syncs"] == 0
        # /readyz agrees: every process ready, none behind.
        for server in servers:
            assert server.wait_ready(timeout=10, key=key)["lag"] == {"versions": 0, "seconds": 0.0}
    finally:
        for server in itertools.chain(servers):
            server.stop()
