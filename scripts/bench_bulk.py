"""Time bulk import and export of N needs against `techmatch load` of the same rows (the baseline), in one run.

    .venv/bin/python scripts/bench_bulk.py --needs 10000 [--model hashing] [--json]

Both paths write to a fresh SQLite database and bring the index up to date; the ratio is import / load.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from app.bulk import service as bulk
from app.bulk.files import FileFormat
from app.bulk.formats import Resource
from app.catalogue.loader import load_dataset
from app.core.database import create_db_engine, create_session_factory, unit_of_work
from app.core.migrations import ensure_schema
from app.core.settings import Settings
from app.models import DEFAULT_TENANT
from matching.encoders.factory import load_encoder
from matching.evaluation.datasets import CompanyRecord, Dataset, NeedRecord
from matching.matcher import Matcher
from matching.types import Constraints

PROBLEMS = [
    "bearings fail without warning",
    "welds crack at the seam",
    "labels are misprinted",
    "pallets are stacked by hand",
    "the oven wastes energy at night",
    "scrap rises on the night shift",
    "orders are planned in a spreadsheet",
]


def _dataset(needs: int, seed: int) -> Dataset:
    rng = random.Random(seed)
    companies = [
        CompanyRecord(
            ref=f"C{n}",
            name=f"Company {n} ApS",
            sector="metal",
            employees=20 + n % 200,
            region="DK-82",
            description=f"Company {n} machines steel parts.",
        )
        for n in range(max(1, needs // 5))
    ]
    rows = []
    for n in range(needs):
        problem = rng.choice(PROBLEMS)
        rows.append(
            NeedRecord(
                ref=f"N{n}",
                company_ref=companies[n % len(companies)].ref,
                title=f"{problem} ({n})",
                description=f"In line {n % 17} {problem}; we lose {n % 9 + 1} hours a week and want to know why.",
                constraints=Constraints(budget_eur_max=50_000 + n % 7 * 10_000, min_trl=6, region="DK-82"),
            )
        )
    return Dataset(
        name="bench", format="benchmark", providers=[], technologies=[], companies=companies, needs=rows, qrels={}
    )


def _settings(directory: Path, model: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=f"sqlite:///{directory / 'bench.db'}",  # type: ignore[call-arg]
        data_dir=directory,
        model=model,
        import_max_rows=1_000_000,
        import_max_bytes=1 << 30,
    )


def _factory(settings: Settings):  # type: ignore[no-untyped-def]
    engine = create_db_engine(settings.database_url)
    ensure_schema(engine)
    return engine, create_session_factory(engine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--needs", type=int, default=10_000)
    parser.add_argument("--model", default="hashing")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    dataset = _dataset(args.needs, args.seed)
    encoder = load_encoder(args.model)

    with tempfile.TemporaryDirectory() as scratch:
        settings = _settings(Path(scratch), args.model)
        engine, factory = _factory(settings)
        started = time.perf_counter()
        load_dataset(factory, dataset=dataset, matcher=Matcher(encoder), index_dir=settings.index_dir)
        load_seconds = time.perf_counter() - started
        with unit_of_work(factory) as session:
            files = {
                resource: bulk.export_file(
                    session, resource=resource, file_format=FileFormat.csv, tenant=DEFAULT_TENANT
                )
                for resource in (Resource.companies, Resource.needs)
            }
        started = time.perf_counter()
        with unit_of_work(factory) as session:
            for file_format in FileFormat:
                bulk.export_file(session, resource=Resource.needs, file_format=file_format, tenant=DEFAULT_TENANT)
        export_seconds = (time.perf_counter() - started) / len(FileFormat)
        engine.dispose()

    with tempfile.TemporaryDirectory() as scratch:
        settings = _settings(Path(scratch), args.model)
        engine, factory = _factory(settings)
        matcher = Matcher(encoder)
        started = time.perf_counter()
        for resource, data in files.items():
            with unit_of_work(factory) as session:
                report = bulk.import_file(
                    session,
                    resource=resource,
                    data=data,
                    file_format=FileFormat.csv,
                    tenant=DEFAULT_TENANT,
                    settings=settings,
                    matcher=matcher,
                )
        import_seconds = time.perf_counter() - started
        engine.dispose()
    assert report.created == args.needs and matcher.catalogue.need_count == args.needs

    summary = {
        "needs": args.needs,
        "companies": len(dataset.companies),
        "model": encoder.name,
        "load_seconds": round(load_seconds, 2),
        "import_csv_seconds": round(import_seconds, 2),
        "import_over_load": round(import_seconds / load_seconds, 2),
        "export_seconds_per_format": round(export_seconds, 2),
        "csv_bytes": len(files[Resource.needs]),
    }
    if args.json:
        print(json.dumps(summary))
    else:
        for name, value in summary.items():
            print(f"{name:>26}: {value}")


if __name__ == "__main__":
    main()
