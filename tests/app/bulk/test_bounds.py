"""Every upload parser is bounded before it allocates: rows counted as read, cells, shared strings,
workbook parts and JSON nesting; each hostile file is refused with a 4xx, quickly and in little memory."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from app.bulk.files import read_table
from app.bulk.formats import FileFormat
from app.core.errors import AppError, PayloadTooLarge
from tests import hostile

MAX_ROWS = 10_000
MAX_BYTES = 10_485_760

REFUSED: dict[str, tuple[Callable[[], bytes], FileFormat, str]] = {
    "a million empty rows in a workbook": (hostile.empty_rows_workbook, FileFormat.xlsx, "20000 rows below its header"),
    "a row numbered 1,048,576": (hostile.row_number_jump_workbook, FileFormat.xlsx, "counting empty ones"),
    "a million cells in one row": (hostile.wide_row_workbook, FileFormat.xlsx, "more than 1024 cells"),
    "1.2 million shared strings": (
        lambda: hostile.shared_strings_workbook(strings=1_200_000),
        FileFormat.xlsx,
        "xl/sharedStrings.xml has more than 640064 XML elements",
    ),
    "18 MB of shared-string text": (
        lambda: hostile.shared_strings_workbook(strings=2_000, text=b"y" * 9_000),
        FileFormat.xlsx,
        "more than 10485760 characters",
    ),
    "190 MB of shared strings": (
        lambda: hostile.shared_strings_workbook(strings=12_000_000),
        FileFormat.xlsx,
        "xl/sharedStrings.xml unpacks to",
    ),
    "two million elements in the styles": (hostile.styles_bomb_workbook, FileFormat.xlsx, "XML elements"),
    "two million elements in a sheet's relationships": (
        hostile.sheet_relations_bomb_workbook,
        FileFormat.xlsx,
        "xl/worksheets/_rels/sheet1.xml.rels has more than 250000 XML elements",
    ),
    "2.4 million elements over 12 parts": (hostile.many_medium_parts_workbook, FileFormat.xlsx, "XML elements in all"),
    "5000 parts in the zip": (hostile.many_parts_workbook, FileFormat.xlsx, "more than 1000 parts"),
    "five million empty CSV lines": (hostile.empty_lines, FileFormat.csv, "counting empty ones"),
    "five million empty JSON lines": (
        lambda: hostile.empty_lines(header=b'{"ref": "c1", "name": "Vejle"}\n'),
        FileFormat.jsonl,
        "counting empty ones",
    ),
    "two million cells in one CSV line": (hostile.wide_csv_row, FileFormat.csv, "more than 1024 cells"),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_hostile_files_are_refused_as_too_large(name: str) -> None:
    build, file_format, message = REFUSED[name]
    with pytest.raises(PayloadTooLarge) as refused:
        read_table(build(), file_format=file_format, max_rows=MAX_ROWS, max_bytes=MAX_BYTES)
    assert message in refused.value.detail


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (hostile.deep_json_line(), "nested more than 16 levels deep"),
        (hostile.wide_json_line(), "more than 1024 values in one row"),
    ],
)
def test_deep_or_wide_json_rows_are_row_problems_not_recursion(line: bytes, problem: str) -> None:
    good = b'{"ref": "c1", "name": "Vejle"}\n'
    table = read_table(
        good + line + good.replace(b"c1", b"c2"), file_format=FileFormat.jsonl, max_rows=10, max_bytes=MAX_BYTES
    )
    assert [row.values["ref"] for row in table.rows] == ["c1", "c2"]
    assert [(p.row, p.problem) for p in table.problems] == [(2, f"not a row: {problem}")]


def test_ordinary_files_within_the_bounds_still_read() -> None:
    # Shared strings as Excel writes them, a few empty rows, commas and brackets inside quoted text.
    workbook = hostile.shared_strings_workbook(strings=100, text=b"Vejle")
    assert len(read_table(workbook, file_format=FileFormat.xlsx, max_rows=10, max_bytes=MAX_BYTES).rows) == 1
    description = "a, b; c " * 300 + "[{" * 20
    csv_text = f'ref,name,description\nc1,Vejle,"{description}"\n\n\nc2,"Hobro\nA/S",x\n'.encode()
    table = read_table(csv_text, file_format=FileFormat.csv, max_rows=2, max_bytes=MAX_BYTES)
    assert [row.values["ref"] for row in table.rows] == ["c1", "c2"]
    line = json.dumps({"ref": "c1", "name": "Vejle", "description": description}) + "\n"
    assert read_table(line.encode(), file_format=FileFormat.jsonl, max_rows=1, max_bytes=MAX_BYTES).problems == []


def test_empty_rows_count_towards_twice_the_row_limit() -> None:
    text = b"ref,name\nc1,Vejle\n" + b"\n" * 18 + b"c2,Hobro\n"
    assert len(read_table(text, file_format=FileFormat.csv, max_rows=10, max_bytes=MAX_BYTES).rows) == 2
    with pytest.raises(AppError) as refused:
        read_table(text + b"\n", file_format=FileFormat.csv, max_rows=10, max_bytes=MAX_BYTES)
    assert refused.value.status == 413
