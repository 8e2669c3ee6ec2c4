"""`techmatch backup FILE` and `techmatch restore FILE`: a consistent copy of the database and its way back."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from app.backup.service import BackupReport


def _print(report: BackupReport, verb: str) -> None:
    from rich.console import Console

    counts = ", ".join(f"{count} {name}" for name, count in report.counts.items())
    Console().print(f"{verb} {report.path} ({report.bytes} bytes){': ' + counts if counts else ''}", highlight=False)


def backup_command(
    file: Annotated[Path, typer.Argument(help="new file to write the backup to")],
) -> None:
    """Back up the database while the service keeps serving (SQLite online backup, or pg_dump)."""
    from app.backup.service import BackupError
    from app.backup.service import backup as take_backup
    from app.core.cli import fail, load_settings

    settings = load_settings()
    try:
        report = take_backup(settings.database_url, file)
    except BackupError as exc:
        fail(exc.detail)
    _print(report, "backed up to")


def restore_command(
    file: Annotated[Path, typer.Argument(help="a file written by `techmatch backup`")],
    force: Annotated[bool, typer.Option("--force", help="replace a database that holds data")] = False,
) -> None:
    """Restore the database from a backup; the index is rebuilt from the restored embeddings at the next start."""
    from rich.console import Console

    from app.backup.service import BackupError
    from app.backup.service import restore as put_back
    from app.core.cli import fail, load_settings

    settings = load_settings()
    try:
        report = put_back(settings.database_url, file, index_dir=settings.index_dir, force=force)
    except BackupError as exc:
        fail(exc.detail)
    _print(report, "restored from")
    Console().print("restart the service (or POST /api/v1/admin/index/rebuild) to rebuild the index", highlight=False)
