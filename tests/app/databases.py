"""Test databases: a migrated SQLite file copied per test, or one PostgreSQL database emptied per test."""

from __future__ import annotations

import gc
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.core.database import create_db_engine
from app.core.migrations import VERSION_TABLE, upgrade
from app.models import Base

# Read at import: the per-test fixture removes every TECHMATCH_* variable from the environment.
# Set by scripts/test-postgres.sh (`make test` runs the app tests a second time with it).
POSTGRES_URL_VARIABLE = "TECHMATCH_TEST_DATABASE_URL"
SERVER_URL = os.environ.get(POSTGRES_URL_VARIABLE) or None
# Under pytest-xdist each worker gets a database of its own beside it (`<name>_gw0`, ...), which
# scripts/test-postgres.sh drops with its own at the end.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
# Set to "pgvector" by scripts/test-postgres.sh's second pass: the app tests again, vectors in PostgreSQL.
VECTOR_BACKEND_VARIABLE = "TECHMATCH_TEST_VECTOR_BACKEND"
VECTOR_BACKEND = os.environ.get(VECTOR_BACKEND_VARIABLE) or "faiss"
if VECTOR_BACKEND == "pgvector" and SERVER_URL is None:
    raise RuntimeError(f"{VECTOR_BACKEND_VARIABLE}=pgvector needs {POSTGRES_URL_VARIABLE} (scripts/test-postgres.sh)")


@dataclass
class TestDatabases:
    """Hands each test an empty database at the migration head."""

    __test__ = False  # not a test class, despite the name

    template: Path | None
    server_url: str | None

    @classmethod
    def prepare(cls, scratch: Path) -> TestDatabases:
        """Migrates once per session: into a template file, or into the server database from scratch."""
        if SERVER_URL is not None:
            url = _worker_database(SERVER_URL)
            engine = create_db_engine(url)
            try:
                _reset_schema(engine)
                upgrade(engine)
            finally:
                engine.dispose()
            return cls(template=None, server_url=url)
        template = scratch / "template.db"
        engine = create_db_engine(f"sqlite:///{template}")
        try:
            upgrade(engine)
        finally:
            # Closing the last connection checkpoints the WAL into the file that is copied.
            engine.dispose()
        return cls(template=template, server_url=None)

    @property
    def backend(self) -> str:
        return "postgresql" if self.server_url else "sqlite"

    def fresh(self, directory: Path) -> str:
        """The URL of an empty, migrated database for one test."""
        if self.server_url is not None:
            # A connection the previous test left open is collected (and warned about) here, at the
            # next test's setup, instead of at a random later point.
            gc.collect()
            engine = create_db_engine(self.server_url)
            try:
                _truncate(engine)
            finally:
                engine.dispose()
            return self.server_url
        assert self.template is not None
        target = directory / "techmatch.db"
        shutil.copyfile(self.template, target)
        return f"sqlite:///{target}"


def _worker_database(url: str) -> str:
    """This xdist worker's own database on the same server (created when missing), or `url` itself."""
    if not WORKER:
        return url
    return _database_beside(url, WORKER)


def _database_beside(url: str, suffix: str) -> str:
    """The URL of `<name>_<suffix>` on the same server, created when missing.

    scripts/test-postgres.sh drops every `<name>_...` database of its run at the end."""
    base = make_url(url)
    name = f"{base.database}_{suffix}"
    with _autocommit(url) as connection:
        exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if exists is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    return base.set(database=name).render_as_string(hide_password=False)


def _drop_beside(url: str, suffix: str) -> None:
    with _autocommit(url) as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}_{suffix}" WITH (FORCE)'))


@contextmanager
def _autocommit(url: str) -> Iterator[Connection]:
    """A connection outside any transaction (CREATE and DROP DATABASE need one), on an engine of its own."""
    engine = create_db_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            yield connection
    finally:
        engine.dispose()


@contextmanager
def empty_database(suffix: str) -> Iterator[str]:
    """A new, empty database beside the run's (for a command that wants one of its own), dropped after."""
    if SERVER_URL is None:
        raise RuntimeError(f"an empty PostgreSQL database needs {POSTGRES_URL_VARIABLE}")
    _drop_beside(SERVER_URL, suffix)
    url = _database_beside(SERVER_URL, suffix)
    try:
        yield url
    finally:
        _drop_beside(SERVER_URL, suffix)


def _reset_schema(engine: Engine) -> None:
    """Drops whatever an earlier run left, so the migrations are exercised from an empty database."""
    database = make_url(str(engine.url)).database
    if not database or "test" not in database:
        raise RuntimeError(f"refusing to wipe {database!r}: a test database's name must contain 'test'")
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))


def _truncate(engine: Engine, *, attempts: int = 5) -> None:
    tables = ", ".join(f'"{name}"' for name in Base.metadata.tables if name != VERSION_TABLE)
    for attempt in range(1, attempts + 1):
        try:
            with engine.begin() as connection:
                # A connection left inside a transaction by a previous test would block TRUNCATE forever.
                connection.execute(text("SET LOCAL lock_timeout = '10s'"))
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            return
        except OperationalError:
            # A background thread of the previous test's app (a follower, a job or webhook worker) still
            # finishing a read can deadlock with TRUNCATE; PostgreSQL aborts one side, and its read ends.
            if attempt == attempts:
                raise
            time.sleep(0.2 * attempt)
