"""The `techmatch` command line: load, serve, match, eval and pair."""

from __future__ import annotations

import json
import logging
import tempfile
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from app.commands import backup as backup_commands
from app.commands import bulk as bulk_commands
from app.commands.common import fail, load_matcher, load_settings, one_line, open_database, read_dataset_dir
from app.commands.contract import openapi
from app.commands.curators import curators_cli
from app.commands.db import db_cli
from app.commands.keys import keys_cli
from app.commands.learn import register as register_learning
from app.commands.reembed import reembed_command
from app.config import MAX_K, Settings
from app.db import unit_of_work
from app.errors import AppError
from app.models import DEFAULT_TENANT
from app.repositories import CompanyRepository, NeedRepository, ProviderRepository, TechnologyRepository
from app.schemas import AdHocMatchRequest, PairingPlanCreate
from app.services.evaluation import evaluate_dataset
from app.services.index_sync import sync_index
from app.services.learning import load_ranking
from app.services.loader import LoadReport, load_dataset
from app.services.matches import ad_hoc_matches
from app.services.pairing import create_plan, plan_read
from matching.evaluation.datasets import Dataset
from matching.matcher import Matcher

cli = typer.Typer(
    name="techmatch",
    help="Match manufacturing SMEs' needs with technology providers' offerings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
cli.add_typer(keys_cli, name="keys")
cli.command("openapi")(openapi)
cli.add_typer(curators_cli, name="curators")
cli.add_typer(db_cli, name="db")
cli.command("reembed")(reembed_command)
cli.command("import")(bulk_commands.import_command)
cli.command("backup")(backup_commands.backup_command)
cli.command("restore")(backup_commands.restore_command)
cli.command("export")(bulk_commands.export_command)
register_learning(cli)

# The packaged demo catalogue, beside the app package in a checkout.
DEFAULT_DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"


class Mode(StrEnum):
    hybrid = "hybrid"
    dense = "dense"
    lexical = "lexical"


def _stdout() -> Console:
    return Console(soft_wrap=False)


def _stderr() -> Console:
    return Console(stderr=True)


def _load(
    factory: sessionmaker[Session],
    *,
    dataset: Dataset,
    matcher: Matcher,
    settings: Settings,
    show_progress: bool,
) -> LoadReport:
    return load_dataset(
        factory,
        dataset=dataset,
        matcher=matcher,
        index_dir=settings.index_dir,
        batch_size=settings.encode_batch_size,
        show_progress=show_progress,
        console=_stderr(),
    )


@cli.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log progress details")] = False,
) -> None:
    level = logging.INFO if verbose else logging.WARNING
    # A console that looks up sys.stderr when it writes, not when it is made (test runners swap it).
    handler = RichHandler(console=_stderr(), show_path=False, show_time=False, level=level)
    logging.basicConfig(level=level, format="%(name)s: %(message)s", handlers=[handler], force=True)


@cli.command()
def load(
    directory: Annotated[Path, typer.Argument(help="data set in the benchmark or BEIR format")],
) -> None:
    """Load a data set into the database (upsert by id) and bring the index up to date."""
    dataset = read_dataset_dir(directory)
    settings = load_settings()
    matcher = load_matcher(settings)
    _, factory = open_database(settings)
    report = _load(factory, dataset=dataset, matcher=matcher, settings=settings, show_progress=True)
    table = Table(title=f"loaded {dataset.name} ({dataset.format})")
    for column in ("records", "created", "updated", "unchanged"):
        table.add_column(column, justify="left" if column == "records" else "right")
    for kind in ("providers", "technologies", "companies", "needs"):
        table.add_row(
            kind,
            str(report.created[kind]),
            str(report.updated[kind]),
            str(report.unchanged[kind]),
        )
    console = _stdout()
    console.print(table)
    if report.sync is not None:
        console.print(f"index {report.sync.outcome} in {settings.index_dir}")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on", min=1, max=65535)] = 8000,
) -> None:
    """Serve the REST API; loads the demo catalogue first when the database is empty."""
    import uvicorn

    from app.main import create_app

    settings = load_settings()
    _, factory = open_database(settings)
    # The model as create_app would build it: concurrent requests' queries in micro-batches.
    matcher = load_matcher(settings, serving=True)
    with unit_of_work(factory) as session:
        empty = TechnologyRepository(session).count() == 0 and NeedRepository(session).count() == 0
    if empty:
        demo = settings.demo_dir or DEFAULT_DEMO_DIR
        if demo.is_dir() and any(demo.iterdir()):
            _stderr().print(f"empty database: loading the demo catalogue from {demo}")
            _load(factory, dataset=read_dataset_dir(demo), matcher=matcher, settings=settings, show_progress=True)
        else:
            _stderr().print(f"empty database and no demo catalogue in {demo}; serving it empty")
    uvicorn.run(create_app(settings, matcher=matcher), host=host, port=port)


@cli.command()
def match(
    text: Annotated[str, typer.Argument(help="the need, in plain words")],
    k: Annotated[int | None, typer.Option("--k", min=1, max=MAX_K, help="how many")] = None,
    budget: Annotated[int | None, typer.Option(help="budget in EUR", min=0)] = None,
    min_trl: Annotated[int | None, typer.Option(help="minimum TRL", min=1, max=9)] = None,
    region: Annotated[str | None, typer.Option(help="region to be served, e.g. DK-81")] = None,
    lang: Annotated[list[str] | None, typer.Option(help="accepted language (repeatable)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on the last line")] = False,
) -> None:
    """Rank the catalogue's technologies for a need, with reasons."""
    settings = load_settings()
    try:
        request = AdHocMatchRequest(
            text=text,
            k=k,
            constraints={"budget_eur_max": budget, "min_trl": min_trl, "region": region, "languages": lang or None},
        )
    except ValidationError as exc:
        fail(one_line(exc))
    _, factory = open_database(settings)
    matcher = load_matcher(settings)
    try:
        with unit_of_work(factory) as session:
            sync_index(session, matcher=matcher, index_dir=settings.index_dir, batch_size=settings.encode_batch_size)
            load_ranking(session, matcher=matcher)
            result = ad_hoc_matches(session, matcher=matcher, request=request, settings=settings)
    except AppError as exc:
        fail(exc.detail)
    if as_json:
        typer.echo(json.dumps({"query": text, **result.model_dump(mode="json")}, ensure_ascii=False))
        return
    console = _stdout()
    if not result.items:
        console.print("no technologies in the catalogue yet: run `techmatch load DIR` first")
        return
    table = Table(title=f"top {len(result.items)} technologies", show_lines=True)
    for column, justify in (
        ("#", "right"),
        ("score", "right"),
        ("technology", "left"),
        ("provider", "left"),
        ("why", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for item in result.items:
        table.add_row(
            str(item.rank),
            f"{item.score:.3f}",
            f"{item.title} [dim]({item.technology_ref or item.technology_id})[/]",
            item.provider_name,
            item.explanation.summary if item.explanation else "",
        )
    console.print(table)


@cli.command(name="eval")
def evaluate(
    directory: Annotated[Path, typer.Argument(help="data set with qrels (benchmark or BEIR)")],
    mode: Annotated[Mode, typer.Option(help="ranking to evaluate")] = Mode.hybrid,
    k: Annotated[int, typer.Option("--k", min=1, max=1000, help="cut-off")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on the last line")] = False,
) -> None:
    """Ranking quality on a data set, loaded into a throw-away database."""
    dataset = read_dataset_dir(directory)
    if not dataset.qrels:
        fail(f"{directory} has no relevance labels (qrels) to evaluate against")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="techmatch-eval-") as scratch:
        settings = load_settings(database_url=f"sqlite:///{Path(scratch) / 'eval.db'}", data_dir=Path(scratch))
        matcher = load_matcher(settings)
        engine, factory = open_database(settings)
        _load(factory, dataset=dataset, matcher=matcher, settings=settings, show_progress=True)
        with unit_of_work(factory) as session:
            report = evaluate_dataset(
                session,
                dataset=dataset,
                matcher=matcher,
                mode=mode.value,
                k=k,
                batch_size=settings.encode_batch_size,
            )
        engine.dispose()
    summary = {
        "dataset": dataset.name,
        "format": dataset.format,
        "mode": mode.value,
        "model": matcher.encoder.name,
        "k": k,
        **report.as_dict(),
        "seconds": round(time.perf_counter() - started, 2),
    }
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False))
        return
    table = Table(title=f"{dataset.name}: {mode.value} ranking, {matcher.encoder.name}")
    metrics = [f"ndcg@{k}", f"recall@{k}", f"mrr@{k}", "queries"]
    table.add_column("needs")
    for metric in metrics:
        table.add_column(metric, justify="right")
    rows = [("all", report.metrics), *report.by_language.items()]
    for label, values in rows:
        table.add_row(label, *(_cell(values[m]) for m in metrics))
    _stdout().print(table)


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
    min_score: float,
) -> PairingPlanCreate:
    """The data set's pairing.json as a plan request: every company, the providers given slots."""
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


@cli.command()
def pair(
    directory: Annotated[Path, typer.Argument(help="data set in the benchmark format, with pairing.json")],
    rounds: Annotated[
        int | None, typer.Option(min=1, max=100, help="rounds in the day (default: as few as the plan needs)")
    ] = None,
    tables: Annotated[int, typer.Option(min=1, max=100, help="demo tables per provider")] = 1,
    fairness: Annotated[Fairness, typer.Option(help="none | coverage | maximin")] = Fairness.none,
    min_score: Annotated[float, typer.Option(min=0.0, max=1.0, help="no pair below this score")] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on the last line")] = False,
) -> None:
    """Demo-day plan for a data set's pairing.json, in a throw-away database."""
    dataset = read_dataset_dir(directory)
    if dataset.pairing is None:
        fail(f"{directory} has no pairing.json")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="techmatch-pair-") as scratch:
        settings = load_settings(database_url=f"sqlite:///{Path(scratch) / 'pair.db'}", data_dir=Path(scratch))
        matcher = load_matcher(settings)
        engine, factory = open_database(settings)
        _load(factory, dataset=dataset, matcher=matcher, settings=settings, show_progress=not as_json)
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
    summary = {
        "dataset": dataset.name,
        "model": matcher.encoder.name,
        "fairness": fairness.value,
        "companies": len(plan.company_ids),
        "providers": len(plan.provider_ids),
        "max_per_company": plan.max_per_company,
        "total_score": round(totals.total_score, 4),
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
    }
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False))
        return
    table = Table(
        title=f"{dataset.name}: {totals.pairs} demos in {totals.rounds} rounds ({fairness.value} fairness)",
        caption=(
            f"total score {totals.total_score:.3f} ({'optimal' if totals.optimal else 'not proven optimal'}, "
            f"greedy {totals.greedy_total_score:.3f}); {totals.covered_companies} of {len(plan.company_ids)} "
            f"SMEs with a demo; {totals.unscheduled} unscheduled"
        ),
    )
    for column, justify in (
        ("round", "right"),
        ("provider", "left"),
        ("table", "right"),
        ("SME", "left"),
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
            f"{item.score:.3f}",
        )
    _stdout().print(table)


def _cell(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:.4f}"


def main() -> None:
    cli()
