"""Database engine, sessions and the unit of work (commit or roll back once per request or command)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def create_db_engine(url: str) -> Engine:
    """An engine for `url`; for a SQLite file, its folder is created and FKs and WAL switched on."""
    parsed = make_url(url)
    # The pool covers the server's 40 request threads: past the default 5 (+10 overflow), every
    # concurrent request opened a fresh connection (on SQLite running the pragmas below), and threads
    # beyond 15 waited for one (a few percent of the server's CPU at 32 concurrent matches, py-spy).
    pool = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW}
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **pool)
    if not parsed.database or parsed.database == ":memory:":
        pool = {}  # one connection per thread
    else:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # Requests run in a thread pool, so a connection may be used by another thread than its creator.
    engine = create_engine(url, connect_args={"check_same_thread": False}, **pool)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


# Durability settings for SQLite, applied to every connection.
# - journal_mode=WAL: readers never block the writer and a commit is one append to the log; a
#   killed process leaves a log that the next opener replays, so committed transactions survive.
# - synchronous=FULL: the log is fsynced at every commit, before the client gets its 2xx. With
#   NORMAL a process crash loses nothing either, but a power cut or OS crash can lose the last
#   commits; "every acknowledged write survives" has to hold for those too, and our write rate
#   (curators and member profiles, not telemetry) makes one fsync per commit cheap.
# - busy_timeout: a writer waits up to 10 s for another writer's lock instead of failing at once
#   with "database is locked" (the API and `techmatch load` may write at the same time).
# - foreign_keys: SQLite does not enforce them unless asked, per connection.
SQLITE_BUSY_TIMEOUT_MS = 10_000
POOL_SIZE = 16
POOL_OVERFLOW = 32


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    # Objects stay readable after commit, so a route can serialise what its service returned.
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
