"""Time `POST /api/v1/pairing-plans` through the API with the real model: the first plan, the next, and after a restart.

A fresh SQLite database and data folder in a temporary directory; the data set is loaded as
`techmatch load` does, then the app (as `techmatch serve` builds it, micro-batching included) answers
three plan requests for the first N companies x the first M providers (by ref): the first after the
load (nothing but the profiles encoded yet), a second with the same companies, and, after the app
stopped (saving the index and its cached sentence and query vectors) and started again, a third.
Not a test; nothing depends on it.

    .venv/bin/python scripts/bench_plan_api.py data/demo [--companies 60] [--providers 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.catalogue.loader import load_dataset
from app.core.database import create_db_engine, create_session_factory, unit_of_work
from app.core.migrations import ensure_schema
from app.core.settings import Settings
from app.keys.service import create_key
from app.main import create_app, serving_encoder
from app.models import Company, Provider
from matching.evaluation.datasets import load_dataset as read_dataset
from matching.matcher import Matcher


def _plan(client: TestClient, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = client.post("/api/v1/pairing-plans", json=body)
    seconds = time.perf_counter() - started
    response.raise_for_status()
    return seconds, response.json()


def bench(directory: Path, *, companies: int, providers: int) -> dict[str, Any]:
    scratch = Path(tempfile.mkdtemp(prefix="techmatch-bench-plan-"))
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{scratch / 'bench.db'}",
        data_dir=scratch / "data",
        rate_limit="100000/minute",
    )
    engine = create_db_engine(settings.database_url)
    ensure_schema(engine)
    factory = create_session_factory(engine)
    started = time.perf_counter()
    load_dataset(
        factory,
        dataset=read_dataset(directory),
        matcher=Matcher(serving_encoder(settings)),
        index_dir=settings.index_dir,
        batch_size=settings.encode_batch_size,
        show_progress=False,
    )
    load_seconds = time.perf_counter() - started
    with unit_of_work(factory) as session:
        key = create_key(session, tenant="default", scopes=["pairing"], name="bench").secret
        company_ids = list(session.scalars(select(Company.id).order_by(Company.ref)))[:companies]
        provider_ids = list(session.scalars(select(Provider.id).order_by(Provider.ref)))[:providers]
    engine.dispose()
    body = {
        "name": "bench",
        "company_ids": company_ids,
        "provider_ids": provider_ids,
        "default_capacity": 6,
        "max_per_company": 3,
        "rounds": 6,
    }
    timings: dict[str, float] = {}
    plan: dict[str, Any] = {}
    for phase in ("first", "restarted"):
        app = create_app(settings)
        with TestClient(app) as client:
            client.headers["Authorization"] = f"Bearer {key}"
            if phase == "first":
                timings["first_plan_after_load"], plan = _plan(client, body)
                timings["second_plan"], plan = _plan(client, body)
            else:
                timings["first_plan_after_restart"], plan = _plan(client, body)
    return {
        "dataset": directory.name,
        "model": settings.model,
        "companies": len(company_ids),
        "providers": len(provider_ids),
        "load_seconds": round(load_seconds, 2),
        **{name: round(value, 3) for name, value in timings.items()},
        "pairs": plan["totals"]["pairs"],
        "solve_seconds": plan["totals"]["seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path, help="a data set in the benchmark format, e.g. data/demo")
    parser.add_argument("--companies", type=int, default=60, help="the first N companies by ref")
    parser.add_argument("--providers", type=int, default=10, help="the first M providers by ref")
    parser.add_argument("--json", action="store_true", help="one JSON object on the last line")
    args = parser.parse_args()
    report = bench(args.dataset, companies=args.companies, providers=args.providers)
    if args.json:
        print(json.dumps(report))
        return
    for name, value in report.items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
