"""Soak test: a real server on 127.0.0.1 under mixed reads and writes; p99 per interval and the server's RSS.

    .venv/bin/python scripts/soak.py --duration 600 --interval 30 --clients 4 --json

Prints one line per interval and, with --json, one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.liveserver import ROOT, LiveServer, prepare, server_env

MINI = ROOT / "tests" / "fixtures" / "mini"


@dataclass
class Interval:
    second: float
    requests: int
    reads: int
    writes: int
    server_errors: int
    other_errors: int
    p50_ms: float
    p99_ms: float
    rss_mb: float


@dataclass
class SoakReport:
    duration_s: float
    clients: int
    requests: int
    server_errors: int
    intervals: list[Interval] = field(default_factory=list)
    first_5xx: str = ""

    def stable_p99(self) -> tuple[float, float]:
        """(median p99 of the early intervals, of the late ones); the first interval is warm-up."""
        steady = self.intervals[1:] or self.intervals
        third = max(1, len(steady) // 3)
        return (
            statistics.median(i.p99_ms for i in steady[:third]),
            statistics.median(i.p99_ms for i in steady[-third:]),
        )

    def rss_growth(self) -> float:
        """RSS at the end over RSS after warm-up (the first interval), as a ratio."""
        steady = self.intervals[1:] or self.intervals
        return steady[-1].rss_mb / steady[0].rss_mb


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class _Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()
        self.first_5xx = ""

    def reset(self) -> None:
        self.latencies: list[float] = []
        self.reads = self.writes = self.server_errors = self.other_errors = 0

    def record(self, response: httpx.Response | None, seconds: float, *, write: bool) -> None:
        with self.lock:
            self.latencies.append(seconds)
            if write:
                self.writes += 1
            else:
                self.reads += 1
            if response is None:
                self.other_errors += 1
            elif response.status_code >= 500:
                self.server_errors += 1
                request = response.request
                self.first_5xx = self.first_5xx or f"{request.method} {request.url}: {response.text[:300]}"
            elif response.status_code >= 400 and response.status_code != 409:
                self.other_errors += 1

    def take(self) -> tuple[list[float], int, int, int, int]:
        with self.lock:
            taken = (self.latencies, self.reads, self.writes, self.server_errors, self.other_errors)
            self.reset()
            return taken


def _client_loop(url: str, key: str, seed: int, stop: threading.Event, recorder: _Recorder) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        companies = [c["id"] for c in client.get("/api/v1/companies").json()["items"]]
        technologies = [t["id"] for t in client.get("/api/v1/technologies").json()["items"]]
        needs = [n["id"] for n in client.get("/api/v1/needs").json()["items"]]
        number = 0
        while not stop.is_set():
            number += 1
            roll = rng.random()
            write = roll >= 0.7
            started = time.perf_counter()
            response: httpx.Response | None
            try:
                if roll < 0.2:
                    response = client.get("/api/v1/needs", params={"limit": 20, "offset": rng.randrange(0, 50)})
                elif roll < 0.35:
                    response = client.get(f"/api/v1/technologies/{rng.choice(technologies)}")
                elif roll < 0.5:
                    response = client.post("/api/v1/match", json={"text": rng.choice(TEXTS), "k": 5})
                elif roll < 0.6:
                    response = client.get(f"/api/v1/technologies/{rng.choice(technologies)}/leads", params={"k": 5})
                elif roll < 0.7:
                    response = client.get("/api/v1/review/queue", params={"limit": 20})
                elif roll < 0.85:
                    response = client.post(
                        "/api/v1/needs",
                        json={
                            "company_id": rng.choice(companies),
                            "title": f"Soak need {seed}-{number}",
                            "description": rng.choice(TEXTS),
                        },
                    )
                    if response.status_code == 201:
                        needs.append(response.json()["id"])
                elif roll < 0.95:
                    response = client.post(f"/api/v1/needs/{rng.choice(needs)}/matches", params={"k": 5})
                else:
                    response = client.patch(
                        f"/api/v1/needs/{rng.choice(needs)}", json={"description": rng.choice(TEXTS)}
                    )
            except httpx.TransportError:
                response = None
            recorder.record(response, time.perf_counter() - started, write=write)


TEXTS = [
    "Cracks in welded brackets reach the customer; we need automatic inspection.",
    "Our lathes stop during breaks; we want unmanned machine tending at night.",
    "Compressed air leaks cost us money; how do we find and fix them?",
    "Manual palletising at the end of the packing line hurts our operators' backs.",
    "We want to know the energy use of each machine without new wiring.",
    "Paint defects on powder coated parts are found too late in the process.",
]


def run_soak(
    *,
    duration: float,
    interval: float,
    clients: int,
    workdir: Path,
    seed: int = 7,
    on_interval: object = None,
) -> SoakReport:
    """Starts a server in `workdir`, runs `clients` client threads for `duration` seconds, stops it."""
    env = server_env(workdir)
    key = prepare(workdir, dataset=MINI, env=env)
    server = LiveServer(workdir, env)
    server.start()
    report = SoakReport(duration_s=duration, clients=clients, requests=0, server_errors=0)
    stop = threading.Event()
    recorder = _Recorder()
    try:
        server.wait_ready(timeout=120)
        assert server.process is not None
        pid = server.process.pid
        threads = [
            threading.Thread(target=_client_loop, args=(server.url, key, seed + i, stop, recorder), daemon=True)
            for i in range(clients)
        ]
        for thread in threads:
            thread.start()
        started = time.monotonic()
        while time.monotonic() - started < duration:
            time.sleep(min(interval, max(0.0, duration - (time.monotonic() - started))))
            latencies, reads, writes, server_errors, other_errors = recorder.take()
            ordered = sorted(latencies) or [0.0]
            point = Interval(
                second=round(time.monotonic() - started, 1),
                requests=len(latencies),
                reads=reads,
                writes=writes,
                server_errors=server_errors,
                other_errors=other_errors,
                p50_ms=round(1000 * ordered[len(ordered) // 2], 2),
                p99_ms=round(1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
                rss_mb=round(_rss_mb(pid), 1),
            )
            report.intervals.append(point)
            report.requests += point.requests
            report.server_errors += point.server_errors
            if callable(on_interval):
                on_interval(point)
        stop.set()
        for thread in threads:
            thread.join(60)
        report.first_5xx = recorder.first_5xx
    finally:
        stop.set()
        server.stop()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=120, help="seconds of load")
    parser.add_argument("--interval", type=float, default=10, help="seconds per reported interval")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads")
    parser.add_argument("--json", action="store_true", help="print the report as JSON on the last line")
    args = parser.parse_args()

    def show(point: Interval) -> None:
        print(
            f"{point.second:7.1f} s  {point.requests:6d} req  5xx {point.server_errors}  "
            f"p50 {point.p50_ms:8.1f} ms  p99 {point.p99_ms:8.1f} ms  rss {point.rss_mb:7.1f} MB",
            flush=True,
        )

    with tempfile.TemporaryDirectory(prefix="techmatch-soak-") as workdir:
        report = run_soak(
            duration=args.duration,
            interval=args.interval,
            clients=args.clients,
            workdir=Path(workdir),
            on_interval=show,
        )
    early, late = report.stable_p99()
    print(
        f"{report.requests} requests, {report.server_errors} server errors; p99 early {early:.1f} ms, "
        f"late {late:.1f} ms (x{late / early:.2f}); RSS growth after warm-up x{report.rss_growth():.3f}"
    )
    if args.json:
        print(
            json.dumps(
                {**asdict(report), "p99_early_ms": early, "p99_late_ms": late, "rss_growth": report.rss_growth()}
            )
        )


if __name__ == "__main__":
    main()
