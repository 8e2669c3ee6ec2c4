"""The `techmatch` command line: every feature's commands under one root.

Command modules import only typer and the standard library at the top; each command imports what it
needs when it runs, so `techmatch --help` and the commands that need no model start at once.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from app.backup.commands import backup_command, restore_command
from app.batch.commands import batch_cli
from app.bulk.commands import export_command, import_command
from app.catalogue.commands import load, load_with_progress
from app.core.commands import db_cli, openapi
from app.evaluation.commands import evaluate
from app.indexing.commands import reembed_command
from app.keys.commands import keys_cli
from app.learning.commands import eval_feedback_command, learn_command
from app.matches.commands import match
from app.pairing.commands import pair
from app.people.commands import curators_cli, people_cli

cli = typer.Typer(
    name="techmatch",
    help="Match manufacturing SMEs' needs with technology providers' offerings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class _RichOnFirstUse(logging.Handler):
    """Hands records to rich's handler, built when the first one arrives: most commands log nothing,
    and rich's logging pulls in its traceback renderer, a noticeable share of a quick command's start-up."""

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self._rich: logging.Handler | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self._rich is None:
            from rich.console import Console
            from rich.logging import RichHandler

            # A console that looks up sys.stderr when it writes, not when it is made (test runners swap it).
            self._rich = RichHandler(console=Console(stderr=True), show_path=False, show_time=False, level=self.level)
            self._rich.setFormatter(self.formatter)
        self._rich.emit(record)


@cli.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log progress details")] = False,
) -> None:
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(name)s: %(message)s", handlers=[_RichOnFirstUse(level)], force=True)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on", min=1, max=65535)] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="server processes on this port, each with its own model and index, kept in step through the database",
        ),
    ] = 1,
) -> None:
    """Serve the REST API and the web pages; loads the demo catalogue first when the database is empty.

    With --workers N, N processes share the port (uvicorn's supervisor restarts one that dies); each
    follows the database's change log (docs: "Deployment")."""
    import uvicorn
    from rich.console import Console

    from app.catalogue.repository import NeedRepository, TechnologyRepository
    from app.core.cli import load_matcher, load_settings, open_database, read_dataset_dir
    from app.core.database import unit_of_work
    from app.core.http_limits import server_options
    from app.indexing.service import use_vector_backend
    from app.main import create_app

    settings = load_settings()
    engine, factory = open_database(settings)
    with unit_of_work(factory) as session:
        empty = TechnologyRepository(session).count() == 0 and NeedRepository(session).count() == 0
    stderr = Console(stderr=True)
    # One process: the model as create_app would build it (concurrent requests' queries in micro-batches),
    # loaded here once. Several: each worker loads its own; this one loads a model only to fill an empty
    # database.
    matcher = load_matcher(settings, serving=True) if workers == 1 else None
    if empty:
        demo = settings.labels_dir
        if demo.is_dir() and any(demo.iterdir()):
            stderr.print(f"empty database: loading the demo catalogue from {demo}")
            loader = matcher or load_matcher(settings)
            # Where the vectors live (FAISS in process, or pgvector tables written with their rows).
            use_vector_backend(loader, settings=settings, engine=engine)
            load_with_progress(
                factory, dataset=read_dataset_dir(demo), matcher=loader, settings=settings, show_progress=True
            )
        else:
            stderr.print(f"empty database and no demo catalogue in {demo}; serving it empty")
    if matcher is not None:
        uvicorn.run(create_app(settings, matcher=matcher), host=host, port=port, **server_options(settings))
        return
    if settings.rate_limit_storage.startswith("memory://"):
        stderr.print(
            f"{workers} workers count rate limits each in its own memory (a key gets {workers} x its limit); "
            "set TECHMATCH_RATE_LIMIT_STORAGE=redis://... to share them"
        )
    # Each worker builds its app from the same settings (environment and .env) by the factory.
    uvicorn.run("app.main:create_app", factory=True, workers=workers, host=host, port=port, **server_options(settings))


cli.command()(load)
cli.command()(match)
cli.command(name="eval")(evaluate)
cli.command()(pair)
cli.command("learn")(learn_command)
cli.command("eval-feedback")(eval_feedback_command)
cli.command("reembed")(reembed_command)
cli.command("import")(import_command)
cli.command("export")(export_command)
cli.command("backup")(backup_command)
cli.command("restore")(restore_command)
cli.command("openapi")(openapi)
cli.add_typer(keys_cli, name="keys")
cli.add_typer(people_cli, name="people")
cli.add_typer(curators_cli, name="curators")
cli.add_typer(db_cli, name="db")
cli.add_typer(batch_cli, name="batch")


def main() -> None:
    cli()
