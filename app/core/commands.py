"""`techmatch db` (schema migrations: upgrade, current, stamp) and `techmatch openapi` (the API contract)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy import Engine

db_cli = typer.Typer(
    help="Database schema migrations (Alembic) for the database in TECHMATCH_DATABASE_URL.",
    no_args_is_help=True,
)


@contextmanager
def _engine(*, migrating: bool = False) -> Iterator[Engine]:
    """The configured database's engine; failures to reach it (and, `migrating`, Alembic's) are one line."""
    from sqlalchemy.exc import OperationalError

    from app.core.cli import fail, load_settings
    from app.core.database import create_db_engine

    engine = create_db_engine(load_settings().database_url)
    try:
        yield engine
    except OperationalError as exc:
        fail(f"cannot reach the database {engine.url.render_as_string(hide_password=True)}: {exc.orig}")
    except Exception as exc:
        if not migrating:
            raise
        from alembic.util import CommandError  # only commands that migrate import Alembic

        if not isinstance(exc, CommandError):
            raise
        fail(str(exc))
    finally:
        engine.dispose()


@db_cli.command("upgrade")
def upgrade_command(
    revision: Annotated[str, typer.Argument(help="target revision")] = "head",
) -> None:
    """Apply the migrations up to REVISION (default: the newest)."""
    from app.core.cli import fail
    from app.core.migrations import SchemaNotCurrent, check_schema, schema_state, upgrade

    with _engine(migrating=True) as engine:
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


@db_cli.command("vector-tables")
def vector_tables_command() -> None:
    """Create the pgvector extension and tables (as migration 0008 does), for a PostgreSQL server that got the
    extension after it was migrated."""
    from app.core.cli import fail
    from app.indexing.pgvector import create_vector_tables, vector_extension_available

    with _engine() as engine, engine.begin() as connection:
        if connection.dialect.name != "postgresql":
            fail("vector tables need a PostgreSQL database; SQLite uses the FAISS backend")
        if not vector_extension_available(connection):
            fail("the PostgreSQL server has no pgvector extension: install it (scripts/system-deps.sh builds it)")
        create_vector_tables(connection)
    typer.echo("vector tables ready")


@db_cli.command("current")
def current_command() -> None:
    """Print the database's revision and the code's; exit status 1 when they differ."""
    from app.core.migrations import schema_state

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
    from app.core.migrations import schema_state, stamp

    with _engine(migrating=True) as engine:
        stamp(engine, revision=revision)
        typer.echo(f"database stamped at {', '.join(schema_state(engine).current)}")


def openapi() -> None:
    """Print the OpenAPI document (sorted keys); regenerate the committed one with
    `techmatch openapi > docs/openapi.json`."""
    import sys

    # The document depends on the code only; these settings keep the environment out of it.
    from app.core.openapi import openapi_json  # the whole app: imported only for this command
    from app.core.settings import Settings
    from app.main import create_app

    settings = Settings(_env_file=None, database_url="sqlite://")  # type: ignore[call-arg]
    sys.stdout.write(openapi_json(create_app(settings)))
