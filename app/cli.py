"""The `techmatch` command line: load, serve, match and eval."""

from __future__ import annotations

import json
import logging
import tempfile
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.config import MAX_K, Settings
from app.db import create_db_engine, create_session_factory, create_tables, unit_of_work
from app.errors import AppError
from app.repositories import NeedRepository, TechnologyRepository
from app.schemas import AdHocMatchRequest
from app.services.evaluation import evaluate_dataset
from app.services.index_sync import sync_index
from app.services.loader import LoadReport, load_dataset
from app.services.matches import ad_hoc_matches
from matching.datasets import Dataset
from matching.datasets import load_dataset as read_dataset
from matching.encoder import load_encoder
from matching.engine import Matcher
from matching.errors import DatasetError, EncoderError

cli = typer.Typer(
    name="techmatch",
    help="Match manufacturing SMEs' needs with technology providers' offerings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

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


def _fail(message: str) -> NoReturn:
    """Bad input: one line on stderr, exit status 2, no traceback."""
    _stderr().print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        _fail(f"invalid settings: {_one_line(exc)}")


def _one_line(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors()
    )


def _database(settings: Settings) -> tuple[Engine, sessionmaker[Session]]:
    engine = create_db_engine(settings.database_url)
    create_tables(engine)
    return engine, create_session_factory(engine)


def _matcher(settings: Settings) -> Matcher:
    try:
        return Matcher(load_encoder(settings.model))
    except EncoderError as exc:
        _fail(str(exc))


def _dataset(directory: Path) -> Dataset:
    if not directory.is_dir():
        _fail(f"{directory} is not a directory")
    try:
        return read_dataset(directory)
    except DatasetError as exc:
        _fail(f"bad data set in {directory}: {exc}")


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
    dataset = _dataset(directory)
    settings = _settings()
    matcher = _matcher(settings)
    _, factory = _database(settings)
    report = _load(
        factory, dataset=dataset, matcher=matcher, settings=settings, show_progress=True
    )
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

    settings = _settings()
    _, factory = _database(settings)
    matcher = _matcher(settings)
    with unit_of_work(factory) as session:
        empty = TechnologyRepository(session).count() == 0 and NeedRepository(session).count() == 0
    if empty:
        demo = settings.demo_dir or DEFAULT_DEMO_DIR
        if demo.is_dir() and any(demo.iterdir()):
            _stderr().print(f"empty database: loading the demo catalogue from {demo}")
            _load(factory, dataset=_dataset(demo), matcher=matcher, settings=settings,
                  show_progress=True)
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
    settings = _settings()
    try:
        request = AdHocMatchRequest(
            text=text,
            k=k,
            constraints={"budget_eur_max": budget, "min_trl": min_trl, "region": region,
                         "languages": lang or None},
        )
    except ValidationError as exc:
        _fail(_one_line(exc))
    _, factory = _database(settings)
    matcher = _matcher(settings)
    try:
        with unit_of_work(factory) as session:
            sync_index(session, matcher=matcher, index_dir=settings.index_dir,
                       batch_size=settings.encode_batch_size)
            result = ad_hoc_matches(session, matcher=matcher, request=request, settings=settings)
    except AppError as exc:
        _fail(exc.detail)
    if as_json:
        typer.echo(json.dumps({"query": text, **result.model_dump(mode="json")}, ensure_ascii=False))
        return
    console = _stdout()
    if not result.items:
        console.print("no technologies in the catalogue yet: run `techmatch load DIR` first")
        return
    table = Table(title=f"top {len(result.items)} technologies", show_lines=True)
    for column, justify in (("#", "right"), ("score", "right"), ("technology", "left"),
                            ("provider", "left"), ("why", "left")):
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
    dataset = _dataset(directory)
    if not dataset.qrels:
        _fail(f"{directory} has no relevance labels (qrels) to evaluate against")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="techmatch-eval-") as scratch:
        settings = _settings(database_url=f"sqlite:///{Path(scratch) / 'eval.db'}",
                             data_dir=Path(scratch))
        matcher = _matcher(settings)
        engine, factory = _database(settings)
        _load(factory, dataset=dataset, matcher=matcher, settings=settings, show_progress=True)
        with unit_of_work(factory) as session:
            report = evaluate_dataset(
                session, dataset=dataset, matcher=matcher, mode=mode.value, k=k,
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


def _cell(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:.4f}"


def main() -> None:
    cli()
