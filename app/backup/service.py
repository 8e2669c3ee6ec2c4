"""Backup and restore of the database: SQLite through its online backup API, PostgreSQL through pg_dump."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from app.core.errors import AppError

# The tables a backup must hold to be one of ours; their row counts are reported.
COUNTED = ("providers", "technologies", "companies", "needs", "matches", "review_decisions", "embeddings")


class BackupError(AppError):
    status = 400


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    bytes: int
    counts: dict[str, int]


def _sqlite_path(database_url: str) -> Path | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _counts(connection: sqlite3.Connection) -> dict[str, int]:
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = [name for name in COUNTED if name not in tables]
    if missing:
        raise BackupError(f"not a techmatch database: no table {', '.join(missing)}")
    return {name: connection.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0] for name in COUNTED}


def _checked(path: Path) -> dict[str, int]:
    """Row counts of a SQLite file that passes its integrity check; BackupError otherwise."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"{path.name} cannot be opened as SQLite: {exc}") from exc
    try:
        verdict = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        if verdict != ["ok"]:
            raise BackupError(f"{path.name} fails its integrity check: {'; '.join(verdict[:3])}")
        return _counts(connection)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path.name} is not a SQLite database: {exc}") from exc
    finally:
        connection.close()


def backup(database_url: str, target: Path) -> BackupReport:
    """A consistent copy of the database in `target`, taken while the service keeps serving.

    SQLite: the online backup API copies the pages of one read snapshot (writers carry on; WAL
    mode lets them), then the copy is integrity-checked. PostgreSQL: `pg_dump --format=custom`.
    """
    if target.exists():
        raise BackupError(f"{target} exists; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    source_path = _sqlite_path(database_url)
    if source_path is None:
        _run_tool("pg_dump", "--format=custom", f"--file={target}", _libpq_url(database_url))
        return BackupReport(path=target, bytes=target.stat().st_size, counts={})
    if not source_path.is_file():
        raise BackupError(f"no database at {source_path}")
    partial = target.with_name(f".{target.name}.partial")
    source = sqlite3.connect(source_path)
    destination = sqlite3.connect(partial)
    try:
        # Pages in steps, so a large copy does not hold the read snapshot's lock in one piece.
        source.backup(destination, pages=1024)
    finally:
        destination.close()
        source.close()
    try:
        counts = _checked(partial)
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)  # a file under the final name is always a complete backup
    return BackupReport(path=target, bytes=target.stat().st_size, counts=counts)


def restore(database_url: str, source: Path, *, index_dir: Path, force: bool = False) -> BackupReport:
    """Replace the database's content with the backup's; the saved index is removed so the next start rebuilds it.

    Refuses a backup that fails its integrity check or is not a techmatch database, and a target that
    already holds data unless `force`. A running service keeps its old index until restarted or until
    POST /api/v1/admin/index/rebuild; /readyz turns red when the counts differ.
    """
    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    target_path = _sqlite_path(database_url)
    if target_path is None:
        clean = ["--clean", "--if-exists"] if force else []
        _run_tool("pg_restore", *clean, "--no-owner", f"--dbname={_libpq_url(database_url)}", str(source))
        _drop_index(index_dir)
        return BackupReport(path=source, bytes=source.stat().st_size, counts={})
    counts = _checked(source)
    if target_path.is_file() and not force:
        with sqlite3.connect(f"file:{target_path}?mode=ro", uri=True) as existing:
            tables = {row[0] for row in existing.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            held = sum(
                existing.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0] for name in COUNTED if name in tables
            )
        if held:
            raise BackupError(f"{target_path} holds {held} rows; pass --force to replace them with the backup")
    target_path.parent.mkdir(parents=True, exist_ok=True)
    backup_source = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    destination = sqlite3.connect(target_path, timeout=30)
    try:
        # The backup API writes the whole database under one lock: other connections see the old
        # content or the new, never a mix.
        backup_source.backup(destination)
    finally:
        destination.close()
        backup_source.close()
    _drop_index(index_dir)
    return BackupReport(path=source, bytes=source.stat().st_size, counts=counts)


def _drop_index(index_dir: Path) -> None:
    # The restored catalogue version may equal the saved index's while the content differs.
    if index_dir.is_dir():
        shutil.rmtree(index_dir)


def _libpq_url(database_url: str) -> str:
    # pg_dump takes a libpq URL: no SQLAlchemy driver suffix.
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _run_tool(tool: str, *args: str) -> None:
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is not installed; PostgreSQL backups use PostgreSQL's own tools")
    result = subprocess.run([tool, *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{tool} failed: {result.stderr.strip()[-500:]}")
