"""Reading and writing the files of bulk import and export: CSV, XLSX and JSON Lines, formulas neutralised."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from app.bulk.formats import FileFormat
from app.bulk.workbooks import MAX_CELLS_PER_ROW, WorkbookLimits, open_workbook
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
# Every row a parser reads counts, empty ones included, up to this many times the row limit (a few
# empty rows between the data are fine; a million of them cost as much to read as real ones).
ROWS_READ_RATIO = 2
# A JSON Lines row: an object with a dozen fields, one nested object and a few lists.
MAX_JSON_DEPTH = 16
MAX_JSON_VALUES = 1024


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
    """The rows of an uploaded file; 400 when it is not a file of that format, 413 past the limits.

    Every bound holds before the parser allocates for what it bounds: rows are counted as they are
    read (empty ones too), cells per row and JSON nesting before a row is split or decoded, and a
    workbook's parts, shared strings and cells before openpyxl reads them (app/bulk/workbooks.py).
    """
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the file is larger than {max_bytes} bytes; split it")
    if not data.strip():
        raise BadRequest("the file is empty")
    counter = _RowCounter(max_rows)
    if file_format is FileFormat.csv:
        return _read_csv(_text(data, "CSV"), counter=counter)
    if file_format is FileFormat.xlsx:
        return _read_xlsx(data, counter=counter, max_bytes=max_bytes)
    return _read_jsonl(_text(data, "JSON Lines"), counter=counter)


class _RowCounter:
    """Counts rows as they are read: data rows up to `max_rows`, all rows up to ROWS_READ_RATIO times that."""

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self.max_read = ROWS_READ_RATIO * max_rows
        self.read = 0

    def row_read(self) -> None:
        self.read += 1
        if self.read > self.max_read:
            raise PayloadTooLarge(
                f"more than {self.max_read} rows, counting empty ones; delete the empty rows or split the file"
            )

    def data_row(self, table: RawTable) -> None:
        if len(table.rows) >= self.max_rows:
            raise PayloadTooLarge(f"more than {self.max_rows} rows; split the file")


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


# What splits CSV records into cells outside quotes: a quoted cell (it may hold delimiters and line
# breaks; a quote only opens one at the start of a cell), a delimiter, or a line break.
_CSV_TOKENS = {
    delimiter: re.compile(rf'(?:(?<=[{delimiter}\r\n])|^)"[^"]*+(?:""[^"]*+)*+(?:"|\Z)|{delimiter}|\r\n|\n|\r')
    for delimiter in (",", ";")
}


def _check_csv_cells(text: str, delimiter: str) -> None:
    """Refuses a record with more than MAX_CELLS_PER_ROW cells before the csv module splits it."""
    if text.count(delimiter) <= MAX_CELLS_PER_ROW:
        return  # the common case: no record can have more
    cells, line = 1, 1
    for token in _CSV_TOKENS[delimiter].finditer(text):
        kind = token.group()
        if kind == delimiter:
            cells += 1
            if cells > MAX_CELLS_PER_ROW:
                raise PayloadTooLarge(f"line {line} has more than {MAX_CELLS_PER_ROW} cells")
        elif kind in ("\r\n", "\n", "\r"):
            cells, line = 1, line + 1
        else:
            line += kind.count("\n")


def _read_csv(text: str, *, counter: _RowCounter) -> RawTable:
    first_line = text.split("\n", 1)[0]
    # Spreadsheets in Danish (and other comma-decimal) locales save CSV with semicolons.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    _check_csv_cells(text, delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header_cells = next(reader)
        table = RawTable(header=[cell.strip().lower() for cell in header_cells])
        for number, cells in enumerate(reader, start=2):
            counter.row_read()
            if not any(cell.strip() for cell in cells):
                continue
            counter.data_row(table)
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


def _read_xlsx(data: bytes, *, counter: _RowCounter, max_bytes: int) -> RawTable:
    limits = WorkbookLimits(
        max_bytes=max_bytes,
        max_rows_read=counter.max_read + 1,
        max_columns=MAX_COLUMNS,
        max_data_rows=counter.max_rows,
    )
    workbook, first_sheet_rows = open_workbook(data, limits)
    try:
        table = RawTable(header=None)
        for number, cells in enumerate(first_sheet_rows(), start=1):
            values = [_cell_value(table, number, index, cell) for index, cell in enumerate(cells)]
            if table.header is None:
                table.header = [str(v).strip().lower() if v is not None else "" for v in values]
                continue
            counter.row_read()
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            counter.data_row(table)
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


# A JSON string (to the end of the line if it is not closed), an opening or closing bracket, a comma.
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*+(?:"|\Z)|[\[{]|[\]}]|,')


def _json_shape_problem(line: str) -> str | None:
    """Why a line is too deep or too wide to decode (None when it is not), found before decoding it."""
    if line.count("[") + line.count("{") <= MAX_JSON_DEPTH and line.count(",") < MAX_JSON_VALUES:
        return None  # the common case: neither bound can be reached
    depth = values = 0
    for token in _JSON_TOKENS.finditer(line):
        kind = token.group()
        if kind in ("[", "{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return f"nested more than {MAX_JSON_DEPTH} levels deep"
        elif kind in ("]", "}"):
            depth -= 1
        elif kind == ",":
            values += 1
            if values >= MAX_JSON_VALUES:
                return f"more than {MAX_JSON_VALUES} values in one row"
    return None


def _read_jsonl(text: str, *, counter: _RowCounter) -> RawTable:
    table = RawTable(header=None)
    # Lines one at a time: a file of empty lines is refused by the count, not split in full first.
    for number, line in enumerate(io.StringIO(text, newline="\n"), start=1):
        line = line.removesuffix("\n")
        counter.row_read()
        if not line.strip():
            continue
        counter.data_row(table)
        shape = _json_shape_problem(line)
        if shape is not None:
            table.problems.append(Problem(number, None, f"not a row: {shape}"))
            continue
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
