"""What every `techmatch` command shares: a one-line failure, settings, the encoder, a data set and the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:
    from pydantic import ValidationError
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from app.core.settings import Settings
    from matching.evaluation.datasets import Dataset
    from matching.matcher import Matcher


def fail(message: str) -> NoReturn:
    """Bad input: one line on stderr, exit status 2, no traceback."""
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def one_line(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())


def load_settings(**overrides: Any) -> Settings:
    from pydantic import ValidationError

    from app.core.settings import Settings

    try:
        return Settings(**overrides)
    except ValidationError as exc:
        fail(f"invalid settings: {one_line(exc)}")


def load_matcher(settings: Settings, *, serving: bool = False) -> Matcher:
    """The configured model; `serving`: as the API serves it (micro-batching, see `serving_encoder`)."""
    from app.main import serving_encoder
    from matching.encoders.factory import load_encoder
    from matching.errors import EncoderError
    from matching.matcher import Matcher

    try:
        if serving:
            return Matcher(serving_encoder(settings))
        return Matcher(load_encoder(settings.model, precision=settings.encoder_precision))
    except EncoderError as exc:
        fail(str(exc))


def read_dataset_dir(directory: Path) -> Dataset:
    from matching.errors import DatasetError
    from matching.evaluation.datasets import load_dataset as read_dataset

    if not directory.is_dir():
        fail(f"{directory} is not a directory")
    try:
        return read_dataset(directory)
    except DatasetError as exc:
        fail(f"bad data set in {directory}: {exc}")


def open_database(settings: Settings) -> tuple[Engine, sessionmaker[Session]]:
    """The engine and a session factory; an embedded SQLite database is brought up to date, a server's checked."""
    import click

    from app.core.database import create_db_engine, create_session_factory
    from app.core.migrations import SchemaNotCurrent, ensure_schema

    engine = create_db_engine(settings.database_url)
    try:
        ensure_schema(engine)
    except SchemaNotCurrent as exc:
        engine.dispose()
        fail(str(exc))
    # Pooled connections are closed when the command ends (a server database would otherwise keep them).
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(engine.dispose)
    return engine, create_session_factory(engine)


@contextmanager
def database_session(settings: Settings | None = None) -> Iterator[Session]:
    """One unit of work on the configured database (see `open_database`), disposed of at the end."""
    from app.core.database import unit_of_work

    engine, factory = open_database(settings or load_settings())
    try:
        with unit_of_work(factory) as session:
            yield session
    finally:
        engine.dispose()
