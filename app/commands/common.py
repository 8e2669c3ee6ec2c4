"""What every `techmatch` command group shares: a one-line failure, settings, the encoder and a database session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import create_db_engine, create_session_factory, unit_of_work
from app.migrations import SchemaNotCurrent, ensure_schema
from matching.encoder import load_encoder
from matching.engine import Matcher
from matching.errors import EncoderError


def fail(message: str) -> NoReturn:
    """Bad input: one line on stderr, exit status 2, no traceback."""
    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        fail(f"invalid settings: {exc.errors()[0]['msg']}")


def load_matcher(settings: Settings) -> Matcher:
    try:
        return Matcher(load_encoder(settings.model))
    except EncoderError as exc:
        fail(str(exc))


@contextmanager
def database_session(settings: Settings | None = None) -> Iterator[Session]:
    """One unit of work on the configured database, brought up to date first (SQLite) or checked (a server)."""
    engine = create_db_engine((settings or load_settings()).database_url)
    try:
        ensure_schema(engine)
        with unit_of_work(create_session_factory(engine)) as session:
            yield session
    except SchemaNotCurrent as exc:
        fail(str(exc))
    finally:
        engine.dispose()
