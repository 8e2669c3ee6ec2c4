"""`techmatch batch encode|score`: heavy work on a Ray cluster (the `batch` extra), results in the database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from app.batch.service import JobReport

batch_cli = typer.Typer(
    help="Batch jobs on Ray: encode texts without a stored vector, score every need against the offerings.",
    no_args_is_help=True,
)

RayAddress = Annotated[
    str,
    typer.Option(
        "--ray-address",
        help="'local' starts a private cluster on 127.0.0.1 for the job; HOST:PORT joins a running one",
    ),
]
Actors = Annotated[int, typer.Option("--actors", min=1, help="actors in the pool, each with its own model")]
CpusPerActor = Annotated[
    float,
    typer.Option(
        "--cpus-per-actor",
        min=0.05,
        help="Ray CPUs each actor holds (fractional leaves room for Ray's own tasks); its model's threads",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="one JSON object on the last line")]


@contextmanager
def _progress(description: str, *, quiet: bool) -> Iterator[tuple[Any, Any]]:
    """(on_total, on_done) callbacks drawing a rich bar on stderr."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=quiet,
    )
    task = progress.add_task(description, total=None)
    with progress:
        yield (
            lambda total: progress.update(task, total=total),
            lambda done: progress.advance(task, done),
        )


def _finish(report: JobReport, *, as_json: bool, summary: str) -> None:
    if as_json:
        typer.echo(json.dumps(report.as_dict()))
    else:
        typer.echo(summary)


@batch_cli.command("encode")
def encode_command(
    ray_address: RayAddress = "local",
    actors: Actors = 2,
    cpus_per_actor: CpusPerActor = 0.5,
    as_json: AsJson = False,
) -> None:
    """Encode every stored text that has no vector for TECHMATCH_MODEL, on an actor pool, into the embedding
    store. Idempotent and resumable (written as it comes); a later start or rolling restart encodes nothing."""
    from app.batch.cluster import RayUnavailable, actor_pool_map, ray_session
    from app.batch.service import PoolOptions, encode_missing
    from app.core.cli import fail, load_settings, open_database
    from matching.encoders.factory import load_encoder
    from matching.errors import EncoderError

    settings = load_settings()
    try:
        dimension = load_encoder(settings.model, precision=settings.encoder_precision).dimension
    except EncoderError as exc:
        fail(str(exc))
    engine, factory = open_database(settings)
    # Disposed at the end: a server database's connections close with the command.
    try:
        pool = PoolOptions(address=ray_address, actors=actors, cpus_per_actor=cpus_per_actor)
        try:
            with ray_session(ray_address), _progress(f"encoding with {settings.model}", quiet=as_json) as (total, done):
                report = encode_missing(
                    factory,
                    model=settings.model,
                    dimension=dimension,
                    precision=settings.encoder_precision,
                    pool=pool,
                    mapper=actor_pool_map,
                    on_total=total,
                    on_written=done,
                )
        except RayUnavailable as exc:
            fail(str(exc))
        _finish(
            report,
            as_json=as_json,
            summary=f"{settings.model}: {report.todo} of {report.read} texts had no vector; {report.written} written "
            f"in {report.seconds:.1f} s",
        )
    finally:
        engine.dispose()


@batch_cli.command("score")
def score_command(
    ray_address: RayAddress = "local",
    actors: Actors = 2,
    cpus_per_actor: CpusPerActor = 0.5,
    k: Annotated[int, typer.Option("--k", min=1, max=50, help="proposals per need")] = 10,
    as_json: AsJson = False,
) -> None:
    """Score every need against the offerings on an actor pool and store the results as proposed matches
    (without explanations): curator decisions are kept and a rejected pair is never proposed again."""
    from app.batch.cluster import RayUnavailable, actor_pool_map, ray_session
    from app.batch.service import MissingVectors, PoolOptions, score_all, scoring_catalogue
    from app.core.cli import fail, load_settings, open_database
    from app.core.database import unit_of_work
    from matching.encoders.factory import load_encoder
    from matching.errors import EncoderError

    settings = load_settings()
    try:
        dimension = load_encoder(settings.model, precision=settings.encoder_precision).dimension
    except EncoderError as exc:
        fail(str(exc))
    engine, factory = open_database(settings)
    # Disposed at the end: a server database's connections close with the command.
    try:
        try:
            with unit_of_work(factory) as session:
                catalogue, exclude = scoring_catalogue(
                    session,
                    model=settings.model,
                    dimension=dimension,
                    precision=settings.encoder_precision,
                    k=k,
                    threshold=settings.match_threshold,
                    shared=settings.share_catalogue,
                    labels_dir=settings.labels_dir,
                    cache_dir=settings.index_dir,
                )
        except MissingVectors as exc:
            fail(str(exc))
        pool = PoolOptions(address=ray_address, actors=actors, cpus_per_actor=cpus_per_actor)
        try:
            with ray_session(ray_address), _progress("scoring needs", quiet=as_json) as (total, done):
                import ray

                report = score_all(
                    factory,
                    catalogue=catalogue,
                    exclude=exclude,
                    pool=pool,
                    mapper=actor_pool_map,
                    put=ray.put,
                    on_total=total,
                    on_written=done,
                )
        except RayUnavailable as exc:
            fail(str(exc))
        _finish(
            report,
            as_json=as_json,
            summary=f"{report.read} needs scored against {report.extra['technologies']} technologies: "
            f"{report.written} proposed matches in {report.seconds:.1f} s",
        )
    finally:
        engine.dispose()
