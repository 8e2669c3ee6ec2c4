"""`techmatch pair`: a demo-day plan for a data set's pairing.json, in a throw-away database."""

from __future__ import annotations

import json
import tempfile
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.pairing.schemas import PairingAssignmentRead, PairingPlanCreate
    from matching.evaluation.datasets import Dataset


class Fairness(StrEnum):
    none = "none"
    coverage = "coverage"
    maximin = "maximin"


def _pairing_request(
    dataset: Dataset,
    session: Session,
    *,
    rounds: int | None,
    tables: int,
    fairness: Fairness,
    min_score: float | None,
) -> PairingPlanCreate:
    """The data set's pairing.json as a plan request: every company, the providers given slots."""
    from pydantic import ValidationError

    from app.catalogue.repository import CompanyRepository, ProviderRepository
    from app.core.cli import fail, one_line
    from app.models import DEFAULT_TENANT
    from app.pairing.schemas import PairingPlanCreate

    raw = dataset.pairing
    if raw is None:
        fail(f"{dataset.name} has no pairing.json")
    capacity = raw.get("capacity") if isinstance(raw, dict) else None
    max_per_company = raw.get("max_per_company") if isinstance(raw, dict) else None
    if (
        not isinstance(capacity, dict)
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in capacity.values())
        or not isinstance(max_per_company, int)
        or max_per_company < 0
    ):
        fail('pairing.json: expected {"capacity": {"P001": slots, ...}, "max_per_company": n}')
    providers = ProviderRepository(session).by_refs(set(capacity), tenant=DEFAULT_TENANT)
    unknown = sorted(set(capacity) - set(providers))
    if unknown:
        fail(f"pairing.json names unknown provider(s): {', '.join(unknown)}")
    companies = CompanyRepository(session).by_refs({c.ref for c in dataset.companies}, tenant=DEFAULT_TENANT)
    try:
        return PairingPlanCreate(
            name=f"{dataset.name} demo day",
            company_ids=[companies[c.ref].id for c in dataset.companies],
            provider_ids=[providers[ref].id for ref in capacity],
            capacities={providers[ref].id: slots for ref, slots in capacity.items()},
            max_per_company=max_per_company,
            rounds=rounds,
            tables=dict.fromkeys((providers[ref].id for ref in capacity), tables),
            min_score=min_score,
            fairness=fairness.value,
            author="techmatch pair",
        )
    except ValidationError as exc:
        fail(f"pairing.json: {one_line(exc)}")


# The pairs as `--json` and `--csv` give them, one per demo, by round.
PAIR_FIELDS = (
    "round",
    "table",
    "company_ref",
    "company",
    "provider_ref",
    "provider",
    "technology_ref",
    "technology",
    "need_ref",
    "need",
    "score",
    "locked",
)


def _assignment(item: PairingAssignmentRead) -> dict[str, object]:
    return {
        "round": item.round,
        "table": item.table,
        "company_ref": item.company_ref,
        "company": item.company_name,
        "provider_ref": item.provider_ref,
        "provider": item.provider_name,
        "technology_ref": item.technology_ref,
        "technology": item.technology_title,
        "need_ref": item.need_ref,
        "need": item.need_title,
        "score": round(item.score, 4),
        "locked": item.locked,
    }


def _write_csv(path: Path, assignments: list[dict[str, object]]) -> None:
    from app.core.cli import fail
    from app.core.spreadsheets import csv_text

    text = csv_text(PAIR_FIELDS, [[row[name] for name in PAIR_FIELDS] for row in assignments])
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror}")


def pair(
    directory: Annotated[Path, typer.Argument(help="data set in the benchmark format, with pairing.json")],
    rounds: Annotated[
        int | None, typer.Option(min=1, max=100, help="rounds in the day (default: as few as the plan needs)")
    ] = None,
    tables: Annotated[int, typer.Option(min=1, max=100, help="demo tables per provider")] = 1,
    fairness: Annotated[Fairness, typer.Option(help="none | coverage | maximin")] = Fairness.none,
    min_score: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="no pair below this probability (default: the match threshold)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on the last line")] = False,
    csv_file: Annotated[
        Path | None,
        typer.Option("--csv", help="also write the plan's pairs to this CSV file", dir_okay=False, writable=True),
    ] = None,
) -> None:
    """Demo-day plan for a data set's pairing.json, in a throw-away database."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from app.catalogue.commands import load_with_progress
    from app.core.cli import fail, load_matcher, load_settings, open_database, read_dataset_dir
    from app.core.database import unit_of_work
    from app.core.errors import AppError
    from app.pairing.service import create_plan, plan_read

    dataset = read_dataset_dir(directory)
    if dataset.pairing is None:
        fail(f"{directory} has no pairing.json")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="techmatch-pair-") as scratch:
        settings = load_settings(database_url=f"sqlite:///{Path(scratch) / 'pair.db'}", data_dir=Path(scratch))
        matcher = load_matcher(settings)
        engine, factory = open_database(settings)
        load_with_progress(factory, dataset=dataset, matcher=matcher, settings=settings, show_progress=not as_json)
        try:
            with unit_of_work(factory) as session:
                request = _pairing_request(
                    dataset, session, rounds=rounds, tables=tables, fairness=fairness, min_score=min_score
                )
                plan = plan_read(session, create_plan(session, matcher=matcher, data=request, settings=settings))
        except AppError as exc:
            fail(exc.detail)
        finally:
            engine.dispose()
    totals = plan.totals
    assignments = [_assignment(item) for item in plan.assignments]
    if csv_file is not None:
        _write_csv(csv_file, assignments)
    summary = {
        "dataset": dataset.name,
        "model": matcher.encoder.name,
        "fairness": fairness.value,
        "companies": len(plan.company_ids),
        "providers": len(plan.provider_ids),
        "max_per_company": plan.max_per_company,
        "total_score": round(totals.total_score, 4),
        "expected_useful_demonstrations": totals.expected_useful_demonstrations,
        "greedy_total_score": round(totals.greedy_total_score, 4),
        "optimal": totals.optimal,
        "bound": totals.bound,
        "gap": totals.gap,
        "pairs": totals.pairs,
        "covered_companies": totals.covered_companies,
        "unassigned_companies": totals.unassigned_companies,
        "worst_best_score": totals.worst_best_score,
        "rounds": totals.rounds,
        "unscheduled": totals.unscheduled,
        "solve_seconds": totals.seconds,
        "seconds": round(time.perf_counter() - started, 2),
        "summary": totals.summary,
        "assignments": assignments,
    }
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False))
        return
    table = Table(
        title=f"{dataset.name}: {totals.pairs} demos in {totals.rounds} rounds ({fairness.value} fairness)",
        caption=f"{escape(totals.summary)} {totals.unscheduled} unscheduled.",
    )
    for column, justify in (
        ("round", "right"),
        ("provider", "left"),
        ("table", "right"),
        ("SME", "left"),
        ("offering", "left"),
        ("score", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for item in plan.assignments:
        table.add_row(
            str(item.round or "-"),
            f"{escape(item.provider_name)} [dim]({escape(item.provider_ref or str(item.provider_id))})[/]",
            str(item.table or "-"),
            f"{escape(item.company_name)} [dim]({escape(item.company_ref or str(item.company_id))})[/]"
            + (" [bold]locked[/]" if item.locked else ""),
            escape(item.technology_title or "-"),
            f"{item.score:.3f}",
        )
    Console(soft_wrap=False).print(table)
