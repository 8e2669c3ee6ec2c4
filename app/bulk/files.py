"""Reading and writing the files of bulk import and export: CSV, XLSX and JSON Lines, formulas neutralised."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from app.bulk.formats import FileFormat
from app.core.errors import AppError, BadRequest, PayloadTooLarge

MEDIA_TYPES: dict[FileFormat, str] = {
    FileFormat.csv: "text/csv; charset=utf-8",
    FileFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FileFormat.jsonl: "application/jsonl",
}

# A spreadsheet cell starting with one of these is run as a formula (OWASP "CSV Injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# The apostrophe is escaped too, so that reading an export back removes exactly what was added; so is a
# line feed, which is what a carriage return becomes in a workbook's XML.
_ESCAPED = (*FORMULA_PREFIXES, "\n", "'")
LIST_SEPARATOR = ";"
# Our resources have at most a dozen columns; a wider sheet is not read past this.
MAX_COLUMNS = 64
# A workbook is a zip of XML; its parts may unpack to this many times the upload limit (XML of real
# sheets compresses about ten to one), so that a small zip bomb is refused before it is parsed.
MAX_UNPACK_RATIO = 20


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an import, where a spreadsheet user finds it (row 1 is the header)."""

    row: int
    column: str | None
    problem: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "problem": self.problem}


@dataclass(frozen=True, slots=True)
class RawRow:
    row: int
    values: dict[str, Any]


@dataclass(slots=True)
class RawTable:
    """What a file holds: its header (None for JSON Lines, whose rows name their fields) and rows."""

    header: list[str] | None
    rows: list[RawRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def neutralise(value: str) -> str:
    """The cell text a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if value.startswith(_ESCAPED) else value


def restore(value: str) -> str:
    """Undoes `neutralise` on a cell read back from one of our exports."""
    return value[1:] if len(value) > 1 and value[0] == "'" and value.startswith(_ESCAPED, 1) else value


# Reading


def read_table(data: bytes, *, file_format: FileFormat, max_rows: int, max_bytes: int) -> RawTable:
    """The rows of an uploaded file; 400 when it is not a file of that format, 413 past the limits."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the file is larger than {max_bytes} bytes; split it")
    if not data.strip():
        raise BadRequest("the file is empty")
    if file_format is FileFormat.csv:
        return _read_csv(_text(data, "CSV"), max_rows=max_rows)
    if file_format is FileFormat.xlsx:
        _check_unpacked_size(data, limit=MAX_UNPACK_RATIO * max_bytes)
        return _read_xlsx(data, max_rows=max_rows)
    return _read_jsonl(_text(data, "JSON Lines"), max_rows=max_rows)


def _text(data: bytes, kind: str) -> str:
    if b"\x00" in data:
        hint = " (an XLSX workbook? send it as .xlsx)" if data.startswith(b"PK\x03\x04") else ""
        raise BadRequest(f"not a {kind} file: it holds binary data{hint}; save it as UTF-8 text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(
            f"not a UTF-8 {kind} file: byte {exc.start} is not UTF-8; save it as 'CSV UTF-8' or UTF-8 text"
        ) from exc


def _too_many(max_rows: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"more than {max_rows} rows; split the file")


def _read_csv(text: str, *, max_rows: int) -> RawTable:
    first_line = text.split("\n", 1)[0]
    # Spreadsheets in Danish (and other comma-decimal) locales save CSV with semicolons.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header_cells = next(reader)
        table = RawTable(header=[cell.strip().lower() for cell in header_cells])
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(table.rows) >= max_rows:
                raise _too_many(max_rows)
            table.rows.append(RawRow(number, _by_header(table, number, cells)))
    except csv.Error as exc:
        raise BadRequest(f"not a readable CSV file (line {reader.line_num}): {exc}") from exc
    return table


def _by_header(table: RawTable, number: int, cells: Sequence[Any]) -> dict[str, Any]:
    assert table.header is not None
    header = table.header
    extra = [cell for cell in cells[len(header) :] if cell not in (None, "")]
    if extra:
        table.problems.append(
            Problem(number, None, f"{len(header) + len(extra)} cells but the header names {len(header)} columns")
        )
    return {name: cell for name, cell in zip(header, cells, strict=False) if name}


def _check_unpacked_size(data: bytes, *, limit: int) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            # Declared sizes bound what zipfile will inflate, so they can be trusted here.
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise BadRequest(f"not a readable XLSX file: {type(exc).__name__}") from exc
    if unpacked > limit:
        raise PayloadTooLarge(f"the workbook unpacks to {unpacked} bytes, more than {limit}; split it")


def _read_xlsx(data: bytes, *, max_rows: int) -> RawTable:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # zip, XML and openpyxl errors alike: the upload is not a workbook
        raise BadRequest(f"not a readable XLSX file: {type(exc).__name__}") from exc
    try:
        if not workbook.worksheets:
            raise BadRequest("the workbook has no sheet")
        rows = workbook.worksheets[0].iter_rows(max_col=MAX_COLUMNS)
        table = RawTable(header=None)
        for number, cells in enumerate(rows, start=1):
            values = [_cell_value(table, number, index, cell) for index, cell in enumerate(cells)]
            if table.header is None:
                table.header = [str(v).strip().lower() if v is not None else "" for v in values]
                continue
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            if len(table.rows) >= max_rows:
                raise _too_many(max_rows)
            table.rows.append(RawRow(number, _by_header(table, number, values)))
    except AppError:
        raise
    except Exception as exc:  # a part of the zip that only breaks when read
        raise BadRequest(f"not a readable XLSX file: {type(exc).__name__}") from exc
    finally:
        workbook.close()
    if table.header is None:
        raise BadRequest("the first sheet is empty")
    return table


def _cell_value(table: RawTable, number: int, index: int, cell: Any) -> Any:
    value = getattr(cell, "value", None)
    if getattr(cell, "data_type", None) == "f":
        # The computed value is not in files written by libraries; ask for values, never guess.
        header = table.header or []
        column = header[index] if index < len(header) and header[index] else None
        problem = f"cell {cell.coordinate} holds a formula; paste it as a value"
        table.problems.append(Problem(number, column, problem))
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def _read_jsonl(text: str, *, max_rows: int) -> RawTable:
    table = RawTable(header=None)
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        if len(table.rows) >= max_rows:
            raise _too_many(max_rows)
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            if not table.rows and not table.problems:
                raise BadRequest(f"not a JSON Lines file: line {number} is not JSON ({exc.msg})") from exc
            table.problems.append(Problem(number, None, f"not valid JSON: {exc.msg} (column {exc.colno})"))
            continue
        if not isinstance(value, dict):
            table.problems.append(Problem(number, None, "expected a JSON object"))
            continue
        table.rows.append(RawRow(number, value))
    return table


# Writing


def _cell_text(value: Any) -> Any:
    if isinstance(value, list | tuple):
        value = LIST_SEPARATOR.join(str(item) for item in value)
    if isinstance(value, str):
        return neutralise(value)
    return value


def write_csv(*, columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if (cell := _cell_text(row.get(name))) is None else cell for name in columns])
    # The byte-order mark makes Excel read the file as UTF-8 (Danish letters intact).
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def write_xlsx(*, columns: Sequence[str], rows: Iterable[dict[str, Any]], title: str) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append(list(columns))
    for row in rows:
        cells = []
        for name in columns:
            cell = _cell_text(row.get(name))
            # Control characters cannot be stored in the XML of a workbook.
            cells.append(ILLEGAL_CHARACTERS_RE.sub("", cell) if isinstance(cell, str) else cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_jsonl(rows: Iterable[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")
