"""Crash consistency: SIGKILL a real server while clients write, and `techmatch load` mid-way; nothing is lost."""

from __future__ import annotations

import random
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from scripts.liveserver import ROOT, TECHMATCH, LiveServer, prepare, server_env
from tests.reliability.invariants import Ledger, catalogue, check_database, check_index

pytestmark = pytest.mark.server

SEED = 20261122
ROUNDS = 10
WRITERS = 4
MINI = ROOT / "tests" / "fixtures" / "mini"
DEMO = ROOT / "data" / "demo"


class Writer(threading.Thread):
    """Creates needs, computes their matches and records decisions until the server dies."""

    def __init__(
        self, *, url: str, key: str, company_ids: list[int], seed: int, label: str, computed: list[int]
    ) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        self.random = random.Random(seed)
        self.company_ids = company_ids
        self.label = label
        self.known_computed = computed  # from earlier rounds: the data outlived the kill
        self.ledger = Ledger()
        self.server_errors: list[str] = []
        self.attempts = 0

    def run(self) -> None:
        number = 0
        try:
            while True:
                number += 1
                self.attempts += 1
                roll = self.random.random()
                if roll < 0.45 or not self.ledger.needs:
                    self._create_need(number)
                elif roll < 0.75:
                    self._compute(self.random.choice(sorted(self.ledger.needs)))
                else:
                    candidates = sorted(self.ledger.computed) + self.known_computed
                    self._decide(self.random.choice(candidates or sorted(self.ledger.needs)))
        except httpx.TransportError:
            pass  # the server was killed: this request's outcome is unknown, so it is not in the ledger
        finally:
            self.client.close()

    def _check(self, response: httpx.Response, expected: int) -> bool:
        if response.status_code >= 500:
            self.server_errors.append(f"{response.request.method} {response.request.url.path}: {response.text[:300]}")
        return response.status_code == expected

    def _create_need(self, number: int) -> None:
        title = f"{self.label} need {number}: {self.random.choice(['welding', 'painting', 'sorting', 'drying'])}"
        body = {
            "company_id": self.random.choice(self.company_ids),
            "title": title,
            "description": "Parts are checked by hand and defects reach customers; we want a machine to do it.",
        }
        response = self.client.post("/api/v1/needs", json=body)
        if self._check(response, 201):
            self.ledger.needs[response.json()["id"]] = title

    def _compute(self, need_id: int) -> None:
        response = self.client.post(f"/api/v1/needs/{need_id}/matches", params={"k": 5})
        if self._check(response, 200) and response.json()["items"]:
            self.ledger.computed.add(need_id)

    def _decide(self, need_id: int) -> None:
        queue = self.client.get("/api/v1/review/queue", params={"need_id": need_id, "status": "all", "limit": 5})
        if not self._check(queue, 200) or not queue.json()["items"]:
            return
        match_id = self.random.choice(queue.json()["items"])["match_id"]
        action = self.random.choice(["approve", "reject", "reopen"])
        body: dict[str, object] = {"action": action}
        if action == "reject":
            body["reason_code"] = "not_relevant"
        response = self.client.post(f"/api/v1/review/matches/{match_id}/decisions", json=body)
        # 409: the match is already in that state (or it changed meanwhile), an expected refusal.
        if self._check(response, 201):
            decision = response.json()
            self.ledger.decisions[decision["id"]] = (match_id, action)


def _warm_up(url: str, key: str) -> None:
    """Matches for one new need, so the kill does not always land in the first one's lazy loading."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        company_id = client.get("/api/v1/companies", params={"limit": 1}).json()["items"][0]["id"]
        need = client.post("/api/v1/needs", json={"company_id": company_id, "title": "Warm-up need"})
        need.raise_for_status()
        client.post(f"/api/v1/needs/{need.json()['id']}/matches", params={"k": 5}).raise_for_status()


def _company_ids(url: str, key: str) -> list[int]:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        response = client.get("/api/v1/companies", params={"limit": 100})
        response.raise_for_status()
        return [item["id"] for item in response.json()["items"]]


def test_sigkill_while_clients_write_loses_nothing_acknowledged(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    env = server_env(tmp_path)
    key = prepare(tmp_path, dataset=MINI, env=env)
    database = tmp_path / "techmatch.db"
    index_dir = tmp_path / "data" / "index"
    server = LiveServer(tmp_path, env)
    ledger = Ledger()
    server_errors: list[str] = []
    started = time.monotonic()
    killed_with_requests = 0

    try:
        for round_number in range(ROUNDS):
            server.start()
            server.wait_ready(timeout=90)
            # The start-up repaired the index if the kill left it behind the database.
            assert check_index(database, index_dir) == [], f"round {round_number}"
            company_ids = _company_ids(server.url, key)
            _warm_up(server.url, key)
            writers = [
                Writer(
                    url=server.url,
                    key=key,
                    company_ids=company_ids,
                    seed=rng.randrange(2**32),
                    label=f"r{round_number}w{i}",
                    computed=sorted(ledger.computed),
                )
                for i in range(WRITERS)
            ]
            for writer in writers:
                writer.start()
            time.sleep(rng.uniform(1.5, 5.0))
            server.kill()
            for writer in writers:
                writer.join(60)
                assert not writer.is_alive()
                ledger.merge(writer.ledger)
                server_errors += writer.server_errors
            killed_with_requests += sum(1 for writer in writers if writer.attempts)
            # Straight on the file, before anything else opens it.
            assert check_database(database, ledger) == [], f"after the kill of round {round_number}"
    except BaseException:
        server.stop()  # a failed round leaves no server running behind the next test
        raise

    # One more start: the last kill is repaired too, and every acknowledged write is served.
    server.start()
    ready = server.wait_ready(timeout=90, key=key)
    try:
        technologies, needs, _ = catalogue(database)
        assert ready["technologies"] == len(technologies) and ready["needs"] == len(needs)
        assert check_index(database, index_dir) == []
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
            for need_id, title in sorted(ledger.needs.items())[:50]:
                assert client.get(f"/api/v1/needs/{need_id}").json()["title"] == title
    finally:
        server.stop()
    assert server_errors == []
    assert ledger.size > ROUNDS * 5, "the writers barely wrote: the test proves nothing"
    assert len(ledger.decisions) > 0 and len(ledger.computed) > 0
    print(
        f"crash test: {ROUNDS} kills, {ledger.size} acknowledged writes "
        f"({len(ledger.needs)} needs, {len(ledger.computed)} match sets, {len(ledger.decisions)} decisions), "
        f"{time.monotonic() - started:.0f} s"
    )


def test_sigkill_during_load_leaves_all_or_nothing(tmp_path: Path) -> None:
    """`techmatch load` writes in one transaction: killed at any moment, the data set is all there or absent."""
    rng = random.Random(SEED + 1)
    env = server_env(tmp_path)
    key = prepare(tmp_path, dataset=None, env=env)
    database = tmp_path / "techmatch.db"
    total = len((DEMO / "technologies.jsonl").read_text(encoding="utf-8").splitlines())
    outcomes = []
    # Two kills at random moments, then one right after the data commit (while the index is built).
    for after_commit in (False, False, True):
        load = subprocess.Popen(
            [str(TECHMATCH), "load", str(DEMO)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if after_commit:
            deadline = time.monotonic() + 120
            while len(catalogue(database)[0]) < total and load.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
        else:
            time.sleep(rng.uniform(0.5, 6.0))
        load.kill()
        load.wait(30)
        assert check_database(database, Ledger()) == []
        technologies, _, _ = catalogue(database)
        assert len(technologies) in (0, total), f"half a load is visible: {len(technologies)} of {total}"
        outcomes.append(len(technologies))
    assert outcomes[-1] == total

    # No second load: the start-up alone must bring the index in line with what the kills left.
    server = LiveServer(tmp_path, env)
    server.start()
    try:
        ready = server.wait_ready(timeout=90, key=key)
    finally:
        server.stop()
    assert ready["technologies"] == total
    assert check_index(database, tmp_path / "data" / "index") == []
    print(f"load kills: technologies visible after each kill {outcomes}")
