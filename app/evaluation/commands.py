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
    plot: Annotated[
        Path | None, typer.Option("--plot", help="write a reliability diagram of the scores (PNG) to this file")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on the last line")] = False,
) -> None:
    """Quality on a data set, loaded into a throw-away database: ranking (nDCG, recall, MRR) and, for the
    benchmark format, how well the scores are calibrated (ECE, Brier) and how honestly "nothing fits" is said."""
    from rich.console import Console
    from rich.table import Table

    from app.catalogue.commands import load_with_progress
    from app.core.cli import fail, load_matcher, load_settings, open_database, read_dataset_dir
    from app.core.database import unit_of_work
    from app.evaluation.service import evaluate_dataset
    from app.learning.service import load_ranking

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
            load_ranking(session, matcher=matcher, labels_dir=settings.labels_dir, cache_dir=settings.index_dir)
            report = evaluate_dataset(
                session,
                dataset=dataset,
                matcher=matcher,
                mode=mode.value,
                k=k,
                batch_size=settings.encode_batch_size,
                threshold=settings.match_threshold,
            )
        engine.dispose()
    if plot is not None:
        if not report.probabilities:
            fail("a reliability diagram needs a data set in the benchmark format and the hybrid mode")
        from matching.evaluation.plots import reliability_diagram

        reliability_diagram(
            report.probabilities, report.outcomes, plot, title=f"{dataset.name}: {matcher.encoder.name}, top {k}"
        )
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
    metrics = [f"ndcg@{k}", f"ndcg@{k}_linear", f"recall@{k}", f"mrr@{k}", "queries"]
    table.add_column("needs")
    for metric in metrics:
        table.add_column(metric, justify="right")
    rows = [("all", report.metrics), *report.by_language.items(), *report.by_length.items()]
    for label, values in rows:
        table.add_row(label, *(_cell(values[m]) for m in metrics))
    console = Console(soft_wrap=False)
    console.print(table)
    if report.scores:
        console.print(
            f"calibration over each need's top {k}: ECE {report.scores['ece']:.4f}, "
            f"Brier {report.scores['brier']:.4f}; nothing fits (threshold {report.scores['threshold']}): "
            f"said for {report.scores['nothing_fits_recall']:.0%} of {report.scores['offtopic_needs']} off-topic "
            f"needs, wrongly for {report.scores['false_nothing_fits']:.0%} of needs with a solving offering"
        )
    if plot is not None:
        console.print(f"reliability diagram written to {plot}")


def _cell(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:.4f}"
