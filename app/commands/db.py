"""`techmatch db`: bring the database schema up to date, show where it stands, adopt an old database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from alembic.util import CommandError
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from app.commands.common import fail, load_settings
from app.db import create_db_engine
from app.migrations import SchemaNotCurrent, check_schema, schema_state, stamp, upgrade

db_cli = typer.Typer(
    help="Database schema migrations (Alembic) for the database in TECHMATCH_DATABASE_URL.",
    no_args_is_help=True,
)


@contextmanager
def _engine() -> Iterator[Engine]:
    engine = create_db_engine(load_settings().database_url)
    try:
        yield engine
    except OperationalError as exc:
        fail(f"cannot reach the database {engine.url.render_as_string(hide_password=True)}: {exc.orig}")
    except CommandError as exc:
        fail(str(exc))
    finally:
        engine.dispose()


@db_cli.command("upgrade")
def upgrade_command(
    revision: Annotated[str, typer.Argument(help="target revision")] = "head",
) -> None:
    """Apply the migrations up to REVISION (default: the newest)."""
    with _engine() as engine:
        before = schema_state(engine)
        if before.unversioned_tables:
            try:
                check_schema(engine)
            except SchemaNotCurrent as exc:
                fail(str(exc))
        upgrade(engine, revision=revision)
        after = schema_state(engine)
    was = ", ".join(before.current) or "empty"
    now = ", ".join(after.current) or "empty"
    typer.echo(f"database at {now}" + (f" (was {was})" if was != now else " (already up to date)"))


@db_cli.command("current")
def current_command() -> None:
    """Print the database's revision and the code's; exit status 1 when they differ."""
    with _engine() as engine:
        state = schema_state(engine)
    typer.echo(f"database: {', '.join(state.current) or 'not migrated'}")
    typer.echo(f"code:     {', '.join(state.heads)}")
    if not state.up_to_date:
        typer.echo("run `techmatch db upgrade` to bring the database up to date")
        raise typer.Exit(1)


@db_cli.command("stamp")
def stamp_command(
    revision: Annotated[str, typer.Argument(help="revision the database already matches")],
) -> None:
    """Record REVISION as applied without running it (a database created before migrations existed)."""
    with _engine() as engine:
        stamp(engine, revision=revision)
        typer.echo(f"database stamped at {', '.join(schema_state(engine).current)}")
