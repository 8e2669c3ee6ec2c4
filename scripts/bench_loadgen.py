"""Load generator for the online case: a pool of httpx clients posting ad-hoc matches at a fixed concurrency.

Usage: python scripts/bench_loadgen.py URL QUERIES_JSON --concurrency C --requests N [--key KEY]
Prints one JSON line: p50/p99 latency (ms), throughput (requests/s), error count and the first errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import httpx
import numpy as np


async def drive(url: str, queries: list[str], *, concurrency: int, requests: int, key: str | None) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=120) as client:

        async def worker() -> None:
            for number in counter:
                body = {"text": queries[number % len(queries)], "k": 10}
                start = time.perf_counter()
                try:
                    response = await client.post("/api/v1/match", json=body)
                except httpx.HTTPError as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                latencies.append(time.perf_counter() - start)
                if response.status_code != 200 or not response.json().get("items"):
                    errors.append(f"{response.status_code}: {response.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ms = np.array(latencies) * 1000 if latencies else np.zeros(1)
    return {
        "concurrency": concurrency,
        "requests": requests,
        "errors": len(errors),
        "first_errors": errors[:3],
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "throughput_rps": round(len(latencies) / elapsed, 2),
        "seconds": round(elapsed, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("queries", type=Path)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--key", default=None)
    args = parser.parse_args()
    queries = json.loads(args.queries.read_text("utf-8"))
    result = asyncio.run(drive(args.url, queries, concurrency=args.concurrency, requests=args.requests, key=args.key))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
