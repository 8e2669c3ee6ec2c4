"""`techmatch learn` (learn a ranking from curator decisions) and `techmatch eval-feedback` (measure it)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer


def learn_command(
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on the last line")] = False,
) -> None:
    """Learn a ranking from every approved and rejected match and store it; the server loads it at start-up."""
    from rich.console import Console
    from rich.table import Table

    from app.core.cli import database_session, fail, load_matcher, load_settings
    from app.core.errors import AppError
    from app.indexing.service import sync_index
    from app.learning.schemas import COMMAND_LINE, RankingModelRead
    from app.learning.service import learn

    settings = load_settings()
    matcher = load_matcher(settings)
    try:
        with database_session(settings) as session:
            sync_index(session, matcher=matcher, index_dir=settings.index_dir, batch_size=settings.encode_batch_size)
            row = learn(session, matcher=matcher, trained_by=COMMAND_LINE, labels_dir=settings.labels_dir)
            read = RankingModelRead.of(row)
    except AppError as exc:
        fail(exc.detail)
    if as_json:
        typer.echo(read.model_dump_json())
        return
    console = Console(soft_wrap=False)
    console.print(
        f"learned ranking model {read.id} from {read.decisions} decisions ({read.approved} approved) "
        f"on {read.needs} needs; parts: {', '.join(read.parts)}"
    )
    table = Table("weight", "value")
    for name, value in read.weights.items():
        table.add_row(name, f"{value:.4f}")
    table.add_row("prior", f"{read.prior_weight:.4f}")
    console.print(table)


def eval_feedback_command(
    directory: Annotated[Path, typer.Argument(help="data set in the benchmark format, with qrels")],
    seed: Annotated[int, typer.Option(help="seed of the first split")] = 0,
    splits: Annotated[int, typer.Option(min=1, max=100, help="random halvings to average over")] = 5,
    propose_k: Annotated[int, typer.Option(min=1, max=100, help="proposals per training need")] = 10,
    min_relevance: Annotated[
        int, typer.Option(min=1, max=3, help="a proposal labelled at least this is approved, else rejected")
    ] = 1,
    outcome_share: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="share of approved proposals followed to an outcome (adopted when the label is 2 or 3, "
            "else declined); above 0 also compares curator decisions with outcomes",
        ),
    ] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on the last line")] = False,
) -> None:
    """Learning from decisions, measured: half the needs' labels act as decisions, nDCG@10 on the other half."""
    from rich.console import Console
    from rich.table import Table

    from app.core.cli import fail, load_matcher, load_settings, read_dataset_dir
    from matching.learning.evaluation import VARIANTS, evaluate_feedback, load_into

    dataset = read_dataset_dir(directory)
    if not dataset.qrels:
        fail(f"{directory} has no relevance labels (qrels) to learn from")
    started = time.perf_counter()
    settings = load_settings()
    loaded = load_into(load_matcher(settings), dataset, batch_size=settings.encode_batch_size)
    report = evaluate_feedback(
        loaded,
        seed=seed,
        splits=splits,
        propose_k=propose_k,
        min_relevance=min_relevance,
        outcome_share=outcome_share,
    )
    summary = {
        "dataset": dataset.name,
        "model": loaded.matcher.encoder.name,
        **report,
        "seconds": round(time.perf_counter() - started, 2),
    }
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False))
        return
    metric = report["metric"]
    table = Table(
        title=f"{dataset.name}: {metric} of held-out needs, before and after learning "
        f"({splits} splits from seed {seed})",
        caption="gain: after - before, mean and min over the splits",
    )
    for column in ("learned", "needs", "before", "after", "gain mean", "gain min"):
        table.add_column(column, justify="left" if column in ("learned", "needs") else "right")
    for variant in VARIANTS:
        for group, values in report["summary"][variant].items():
            label = f"{variant} (default)" if variant == report["default"] else variant
            table.add_row(
                label,
                group,
                f"{values['before']:.4f}",
                f"{values['after']:.4f}",
                f"{values['gain_mean']:+.4f}",
                f"{values['gain_min']:+.4f}",
            )
    console = Console(soft_wrap=False)
    console.print(table)
    if not report["signals"]:
        return
    followed = sum(r["outcomes"]["followed"] for r in report["per_split"])
    adopted = sum(r["outcomes"]["adopted"] for r in report["per_split"])
    signals = Table(
        title=f"What outcomes add: {report['default']} learned from each signal "
        f"({followed} outcomes over the splits, {adopted} adopted; an outcome weighs {report['outcome_weight']:g})",
        caption="gain: after - before, mean and min over the splits",
    )
    for column in ("signal", "needs", "before", "after", "gain mean", "gain min"):
        signals.add_column(column, justify="left" if column in ("signal", "needs") else "right")
    for signal, groups in report["signals"].items():
        for group, values in groups.items():
            signals.add_row(
                signal,
                group,
                f"{values['before']:.4f}",
                f"{values['after']:.4f}",
                f"{values['gain_mean']:+.4f}",
                f"{values['gain_min']:+.4f}",
            )
    console.print(signals)


def register(cli: typer.Typer) -> None:
    cli.command("learn")(learn_command)
    cli.command("eval-feedback")(eval_feedback_command)
