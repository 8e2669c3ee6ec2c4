"""Sign-in guessing against a real server: the API's median latency quiet, then while eight clients guess passwords.

Starts `techmatch serve` on 127.0.0.1 (its own SQLite database in a temporary folder, the hashing
encoder, the demo catalogue), creates a curator account and an API key, then times
`GET /api/v1/providers` one request after another: `--quiet-seconds` with nothing else going on,
then `--guess-seconds` while eight clients (in another process, so their work is not this one's)
post guesses to /login as fast as the server answers, each from its own address (X-Forwarded-For,
which uvicorn takes from a proxy on 127.0.0.1) and each alternating between the real account and
unknown names. Every phase is bounded in time and in requests. Prints one JSON line: the two
medians, their ratio, the two 90th percentiles, and what the guesses got (401: a password was
checked; 429: refused by the throttle before any hash; 503: the hash queue was full).

Usage: .venv/bin/python scripts/bench_signin.py [--guessers 8] [--quiet-seconds 15] [--guess-seconds 30]
       [--hash-slots N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.liveserver import TECHMATCH, LiveServer, prepare, server_env

ACCOUNT = "mette"
PASSWORD = "the curator's real passphrase"
API_PATH = "/api/v1/providers"
MAX_API_REQUESTS = 100_000
MAX_GUESSES_PER_CLIENT = 50_000
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _time_api(url: str, key: str, *, seconds: float) -> list[float]:
    """Latencies (ms) of the API call, one after another, for `seconds` (at most MAX_API_REQUESTS)."""
    latencies: list[float] = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        client.get(API_PATH).raise_for_status()  # the connection is open before timing starts
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and len(latencies) < MAX_API_REQUESTS:
            start = time.perf_counter()
            response = client.get(API_PATH, params={"limit": 20})
            latencies.append((time.perf_counter() - start) * 1000)
            response.raise_for_status()
    return latencies


async def _guesser(url: str, number: int, *, seconds: float, outcomes: Counter[int]) -> None:
    headers = {"X-Forwarded-For": f"10.66.0.{number + 1}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        found = _CSRF.search((await client.get("/login")).text)
        assert found is not None, "no CSRF token on /login"
        token = found.group(1)
        deadline = time.monotonic() + seconds
        for attempt in range(MAX_GUESSES_PER_CLIENT):
            if time.monotonic() >= deadline:
                break
            username = ACCOUNT if attempt % 2 == 0 else f"guess-{number}-{attempt}"
            form = {"csrf_token": token, "username": username, "password": f"guess {number} {attempt}"}
            response = await client.post("/login", data=form, follow_redirects=False)
            outcomes[response.status_code] += 1


def _guess(url: str, guessers: int, seconds: float, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    outcomes: Counter[int] = Counter()

    async def run() -> None:
        await asyncio.gather(*(_guesser(url, n, seconds=seconds, outcomes=outcomes) for n in range(guessers)))

    asyncio.run(run())
    queue.put(dict(outcomes))


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def _p90(values: list[float]) -> float:
    return round(statistics.quantiles(values, n=10)[-1], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--guessers", type=int, default=8)
    parser.add_argument("--quiet-seconds", type=float, default=15.0)
    parser.add_argument("--guess-seconds", type=float, default=30.0)
    parser.add_argument("--hash-slots", type=int, default=None, help="TECHMATCH_PASSWORD_HASH_SLOTS (default: its own)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-signin-") as scratch:
        workdir = Path(scratch)
        extra = {"TECHMATCH_PASSWORD_HASH_SLOTS": str(args.hash_slots)} if args.hash_slots else {}
        env = server_env(workdir, **extra)
        key = prepare(workdir, dataset=None, env=env)
        subprocess.run(
            [str(TECHMATCH), "people", "create", ACCOUNT, "--role", "curator", "--password-stdin"],
            input=PASSWORD + "\n",
            env=env,
            cwd=workdir,
            check=True,
            capture_output=True,
            text=True,
        )
        server = LiveServer(workdir=workdir, env=env)
        server.start()
        try:
            server.wait_ready(timeout=300, key=key)
            quiet = _time_api(server.url, key, seconds=args.quiet_seconds)
            queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
            guessing = multiprocessing.Process(
                target=_guess, args=(server.url, args.guessers, args.guess_seconds, queue)
            )
            guessing.start()
            time.sleep(1.0)  # the guessers have their forms and are under way
            loaded = _time_api(server.url, key, seconds=args.guess_seconds - 1.0)
            outcomes = queue.get(timeout=args.guess_seconds + 120)
            guessing.join(timeout=30)
        finally:
            server.stop()

    result = {
        "api_call": f"GET {API_PATH}",
        "guessers": args.guessers,
        "hash_slots": args.hash_slots or "default",
        "quiet_median_ms": _median(quiet),
        "guessing_median_ms": _median(loaded),
        "ratio": round(statistics.median(loaded) / statistics.median(quiet), 2),
        # The tail, for the record: while a hash runs it takes the cores the API would use.
        "quiet_p90_ms": _p90(quiet),
        "guessing_p90_ms": _p90(loaded),
        "quiet_requests": len(quiet),
        "guessing_requests": len(loaded),
        "guesses": sum(outcomes.values()),
        "guesses_by_status": {str(status): count for status, count in sorted(outcomes.items())},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
