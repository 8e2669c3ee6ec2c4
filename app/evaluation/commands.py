"""`techmatch eval`: ranking quality on a data set with relevance labels, in a throw-away database."""

from __future__ import annotations

import json
import tempfile
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class Mode(StrEnum):
    hybrid = "hybrid"
    dense = "dense"
    lexical = "lexical"


def evaluate(
    directory: Annotated[Path, typer.Argument(help="data set with qrels (benchmark or BEIR)")],
    mode: Annotated[Mode, typer.Option(help="ranking to evaluate")] = Mode.hybrid,
    k: Annotated[int, typer.Option("--k", min=1, max=1000, help="cut-off")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on the last line")] = False,
) -> None:
    """Ranking quality on a data set, loaded into a throw-away database."""
    from rich.console import Console
    from rich.table import Table

    from app.catalogue.commands import load_with_progress
    from app.core.cli import fail, load_matcher, load_settings, open_database, read_dataset_dir
    from app.core.database import unit_of_work
    from app.evaluation.service import evaluate_dataset

    dataset = read_dataset_dir(directory)
    if not dataset.qrels:
        fail(f"{directory} has no relevance labels (qrels) to evaluate against")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="techmatch-eval-") as scratch:
        settings = load_settings(database_url=f"sqlite:///{Path(scratch) / 'eval.db'}", data_dir=Path(scratch))
        matcher = load_matcher(settings)
        engine, factory = open_database(settings)
        load_with_progress(factory, dataset=dataset, matcher=matcher, settings=settings, show_progress=True)
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
    Console(soft_wrap=False).print(table)


def _cell(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:.4f}"
