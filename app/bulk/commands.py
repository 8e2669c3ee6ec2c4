"""`techmatch import` and `techmatch export`: the API's bulk import and export on the configured database."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from app.core.errors import AppError

from app.bulk.formats import FORMATS_BY_SUFFIX, FileFormat, Resource
from app.core.tenancy import DEFAULT_TENANT


def import_command(
    resource: Annotated[Resource, typer.Argument(help="providers, technologies, companies or needs")],
    file: Annotated[Path, typer.Argument(help="a .csv, .xlsx or .jsonl file (the benchmark format's files too)")],
    file_format: Annotated[
        FileFormat | None, typer.Option("--format", help="csv, xlsx or jsonl (default: from the extension)")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="validate only; write nothing")] = False,
    tenant: Annotated[str, typer.Option(help="the tenant the rows belong to")] = DEFAULT_TENANT,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on the last line")] = False,
) -> None:
    """Import rows, by id or ref (rows with neither are created): every row is checked first, and one problem
    means nothing is written."""
    from app.bulk import service as bulk
    from app.core.cli import fail, load_matcher, load_settings, open_database
    from app.core.database import unit_of_work
    from app.core.errors import AppError
    from app.indexing.service import save_index, sync_index, use_vector_backend

    chosen = file_format or FORMATS_BY_SUFFIX.get(file.suffix.lower())
    if chosen is None:
        fail(f"cannot tell the format of {file.name}; name it .csv, .xlsx or .jsonl or pass --format")
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    settings = load_settings()
    matcher = None if dry_run else load_matcher(settings)
    engine, factory = open_database(settings)
    try:
        if matcher is not None:
            use_vector_backend(matcher, settings=settings, engine=engine)
            # The index the import extends must be the database's own; it is saved again afterwards.
            with unit_of_work(factory) as session:
                sync_index(
                    session, matcher=matcher, index_dir=settings.index_dir, batch_size=settings.encode_batch_size
                )
        with unit_of_work(factory) as session:
            report = bulk.import_file(
                session,
                resource=resource,
                data=data,
                file_format=chosen,
                tenant=tenant,
                settings=settings,
                matcher=matcher,
                dry_run=dry_run,
            )
        if matcher is not None and (report.created or report.updated):
            with unit_of_work(factory) as session:
                save_index(session, matcher=matcher, index_dir=settings.index_dir)
    except AppError as exc:
        _report_problems(file, exc)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(report.model_dump()))
        return
    verb = "would import" if dry_run else "imported"
    typer.echo(
        f"{verb} {report.rows} {resource.value} from {file.name}: {report.created} created, "
        f"{report.updated} updated, {report.unchanged} unchanged"
    )


def _report_problems(file: Path, exc: AppError) -> NoReturn:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from app.core.cli import fail

    console = Console(stderr=True)
    if exc.errors:
        table = Table(title=f"{file.name}: nothing was imported")
        for column in ("row", "column", "problem"):
            table.add_column(column, justify="right" if column == "row" else "left")
        for error in exc.errors:
            table.add_row(
                str(error.get("row", "")), escape(str(error.get("column") or "")), escape(str(error.get("problem", "")))
            )
        console.print(table)
    fail(exc.detail)


def export_command(
    resource: Annotated[Resource, typer.Argument(help="providers, technologies, companies or needs")],
    file_format: Annotated[FileFormat, typer.Option("--format", help="csv, xlsx or jsonl")] = FileFormat.csv,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="file to write (default: stdout)")] = None,
    tenant: Annotated[str, typer.Option(help="whose rows")] = DEFAULT_TENANT,
) -> None:
    """Export rows as a file that imports back unchanged; spreadsheet formulas are neutralised."""
    from rich.console import Console
    from rich.markup import escape

    from app.bulk import service as bulk
    from app.core.cli import database_session, fail, load_settings

    if output is None and file_format is FileFormat.xlsx and sys.stdout.isatty():
        fail("an XLSX workbook is binary: write it to a file with -o FILE")
    settings = load_settings()
    with database_session(settings) as session:
        data = bulk.export_file(session, resource=resource, file_format=file_format, tenant=tenant)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}")
    Console(stderr=True).print(f"wrote {escape(str(output))}", highlight=False)
