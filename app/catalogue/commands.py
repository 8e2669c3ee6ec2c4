"""`techmatch load`: a data set in the benchmark or BEIR format into the database, and the index up to date."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from app.catalogue.loader import LoadReport
    from app.core.settings import Settings
    from matching.evaluation.datasets import Dataset
    from matching.matcher import Matcher


def load_with_progress(
    factory: sessionmaker[Session],
    *,
    dataset: Dataset,
    matcher: Matcher,
    settings: Settings,
    show_progress: bool,
) -> LoadReport:
    """`load_dataset` with the configured index folder and batch size, progress on stderr."""
    from rich.console import Console

    from app.catalogue.loader import load_dataset

    return load_dataset(
        factory,
        dataset=dataset,
        matcher=matcher,
        index_dir=settings.index_dir,
        batch_size=settings.encode_batch_size,
        show_progress=show_progress,
        console=Console(stderr=True),
    )


def load(
    directory: Annotated[Path, typer.Argument(help="data set in the benchmark or BEIR format")],
) -> None:
    """Load a data set into the database (upsert by id) and bring the index up to date."""
    from rich.console import Console
    from rich.table import Table

    from app.core.cli import load_matcher, load_settings, open_database, read_dataset_dir
    from app.indexing.service import use_vector_backend

    dataset = read_dataset_dir(directory)
    settings = load_settings()
    matcher = load_matcher(settings)
    engine, factory = open_database(settings)
    use_vector_backend(matcher, settings=settings, engine=engine)
    report = load_with_progress(factory, dataset=dataset, matcher=matcher, settings=settings, show_progress=True)
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
    console = Console(soft_wrap=False)
    console.print(table)
    if report.sync is not None:
        console.print(f"index {report.sync.outcome} in {settings.index_dir}")
