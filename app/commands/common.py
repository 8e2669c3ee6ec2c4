"""What every `techmatch` command shares: a one-line failure, settings, the encoder, a data set and the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import create_db_engine, create_session_factory, unit_of_work
from app.migrations import SchemaNotCurrent, ensure_schema
from matching.encoders.factory import load_encoder
from matching.errors import DatasetError, EncoderError
from matching.evaluation.datasets import Dataset
from matching.evaluation.datasets import load_dataset as read_dataset
from matching.matcher import Matcher


def fail(message: str) -> NoReturn:
    """Bad input: one line on stderr, exit status 2, no traceback."""
    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def one_line(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        fail(f"invalid settings: {one_line(exc)}")


def load_matcher(settings: Settings, *, serving: bool = False) -> Matcher:
    """The configured model; `serving`: as the API serves it (micro-batching, see `serving_encoder`)."""
    from app.main import serving_encoder

    try:
        if serving:
            return Matcher(serving_encoder(settings))
        return Matcher(load_encoder(settings.model, precision=settings.encoder_precision))
    except EncoderError as exc:
        fail(str(exc))


def read_dataset_dir(directory: Path) -> Dataset:
    if not directory.is_dir():
        fail(f"{directory} is not a directory")
    try:
        return read_dataset(directory)
    except DatasetError as exc:
        fail(f"bad data set in {directory}: {exc}")


def open_database(settings: Settings) -> tuple[Engine, sessionmaker[Session]]:
    """The engine and a session factory; an embedded SQLite database is brought up to date, a server's checked."""
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
    engine, factory = open_database(settings or load_settings())
    try:
        with unit_of_work(factory) as session:
            yield session
    finally:
        engine.dispose()
