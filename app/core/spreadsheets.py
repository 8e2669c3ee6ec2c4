"""Spreadsheets the service writes (plans, programme reports): cells that never run as formulas, XLSX workbooks."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection, OWASP).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """`value`, a text that a spreadsheet would run as a formula prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV with a header row, CRLF line ends, every text cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if cell is None else safe_cell(cell) for cell in row])
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class Sheet:
    """One worksheet: a title (at most 31 characters), a header row and rows of plain values."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[object]]
    # Column widths in characters, by position; columns not given keep the default.
    widths: Sequence[float] = ()


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    """An XLSX workbook of `sheets`, in order; text cells made safe, control characters dropped, header bold."""
    from openpyxl import Workbook  # imported by the routes that write one only
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    def cell(value: object) -> Any:
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.replace(tzinfo=None)  # Excel has no time zones; the service's times are UTC
        if isinstance(value, str):
            return ILLEGAL_CHARACTERS_RE.sub("", str(safe_cell(value)))
        if value is None or isinstance(value, bool | int | float | date):
            return value
        return str(value)

    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for sheet in sheets:
        worksheet = workbook.create_sheet(sheet.title[:31])
        worksheet.append([cell(c) for c in sheet.columns])
        for header in worksheet[1]:
            header.font = Font(bold=True)
        for row in sheet.rows:
            worksheet.append([cell(c) for c in row])
        for position, width in enumerate(sheet.widths, start=1):
            worksheet.column_dimensions[get_column_letter(position)].width = width
        worksheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
