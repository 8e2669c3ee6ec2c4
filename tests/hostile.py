"""Hostile uploads, built small: workbooks that unpack to far more than they weigh, and text files that
are all empty rows, one wide row or one deep row."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

from openpyxl import Workbook

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _replace_parts(base: bytes, parts: dict[str, Iterator[bytes]], *, extra: dict[str, bytes] | None = None) -> bytes:
    """`base` with the named parts rewritten from chunks (streamed into the zip: never whole in memory)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        names = source.namelist()
        for name in names:
            if name in parts:
                continue
            target.writestr(name, source.read(name))
        for name, chunks in parts.items():
            with target.open(name, "w", force_zip64=False) as part:
                for chunk in chunks:
                    part.write(chunk)
        for name, data in (extra or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def _sheet(header: bytes, rows: Iterator[bytes]) -> Iterator[bytes]:
    yield f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'.encode()
    yield header
    yield from rows
    yield b"</sheetData></worksheet>"


_HEADER_ROW = (
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>ref</t></is></c><c r="B1" t="inlineStr"><is><t>name</t></is></c></row>'
)


def empty_rows_workbook(rows: int = 1_000_000) -> bytes:
    """A companies workbook whose sheet is a header and then `rows` empty <row/> elements (about 10 KB)."""
    base = workbook([["ref", "name"]])

    def chunks() -> Iterator[bytes]:
        for _ in range(rows // 10_000):
            yield b"<row/>" * 10_000

    return _replace_parts(base, {"xl/worksheets/sheet1.xml": _sheet(_HEADER_ROW, chunks())})


def wide_row_workbook(cells: int = 1_000_000) -> bytes:
    """A header and one row of `cells` empty cells."""
    base = workbook([["ref", "name"]])

    def chunks() -> Iterator[bytes]:
        yield b'<row r="2">'
        for _ in range(cells // 10_000):
            yield b"<c/>" * 10_000
        yield b"</row>"

    return _replace_parts(base, {"xl/worksheets/sheet1.xml": _sheet(_HEADER_ROW, chunks())})


def row_number_jump_workbook() -> bytes:
    """A header and one row numbered 1,048,576: openpyxl pads the rows in between as empty ones."""
    base = workbook([["ref", "name"]])
    last = b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>c1</t></is></c></row>'
    return _replace_parts(base, {"xl/worksheets/sheet1.xml": _sheet(_HEADER_ROW, iter([last]))})


_SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def shared_strings_workbook(*, strings: int, text: bytes = b"x") -> bytes:
    """A companies workbook whose shared-strings table holds `strings` copies of `text`; its one row uses two."""
    base = workbook([["ref", "name"]])
    with zipfile.ZipFile(io.BytesIO(base)) as source:
        types = source.read("[Content_Types].xml").decode()
    override = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_SHARED_STRINGS_TYPE}" />'
    types = types.replace("</Types>", override + "</Types>")
    row = b'<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>1</v></c></row>'

    def table() -> Iterator[bytes]:
        yield f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="{strings}">'.encode()
        entry = b"<si><t>" + text + b"</t></si>"
        batch = 1000
        for _ in range(strings // batch):
            yield entry * batch
        yield entry * (strings % batch)
        yield b"</sst>"

    return _replace_parts(
        base,
        {
            "[Content_Types].xml": iter([types.encode()]),
            "xl/worksheets/sheet1.xml": _sheet(_HEADER_ROW, iter([row])),
            "xl/sharedStrings.xml": table(),
        },
    )


def styles_bomb_workbook(elements: int = 2_000_000) -> bytes:
    """A workbook whose styles part (parsed whole by openpyxl) holds `elements` empty elements."""
    base = workbook([["ref", "name"], ["c1", "Vejle"]])

    def chunks() -> Iterator[bytes]:
        yield f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN}"><extLst>'.encode()
        for _ in range(elements // 10_000):
            yield b"<x/>" * 10_000
        yield b"</extLst></styleSheet>"

    return _replace_parts(base, {"xl/styles.xml": chunks()})


def sheet_relations_bomb_workbook(elements: int = 2_000_000) -> bytes:
    """A workbook whose first sheet's relationships part (parsed whole by openpyxl) holds `elements` elements."""
    base = workbook([["ref", "name"], ["c1", "Vejle"]])

    def chunks() -> Iterator[bytes]:
        yield b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        for _ in range(elements // 10_000):
            yield b"<x/>" * 10_000
        yield b"</Relationships>"

    return _replace_parts(base, {"xl/worksheets/_rels/sheet1.xml.rels": chunks()})


def many_medium_parts_workbook(parts: int = 12, elements: int = 200_000) -> bytes:
    """Parts each within the bound of one part, together past the workbook's."""

    def chunks() -> Iterator[bytes]:
        yield b"<junk>"
        yield b"<x/>" * elements
        yield b"</junk>"

    base = workbook([["ref", "name"], ["c1", "Vejle"]])
    return _replace_parts(base, {f"xl/junk{n}.xml": chunks() for n in range(parts)})


def many_parts_workbook(parts: int = 5_000) -> bytes:
    base = workbook([["ref", "name"], ["c1", "Vejle"]])
    return _replace_parts(base, {}, extra={f"junk/{n}.bin": b"" for n in range(parts)})


def empty_lines(lines: int = 5_000_000, *, header: bytes = b"ref,name\n") -> bytes:
    return header + b"\n" * lines


def wide_csv_row(cells: int = 2_000_000) -> bytes:
    return b"ref,name\n" + b"ab," * cells + b"\n"


def deep_json_line(depth: int = 100_000) -> bytes:
    """One JSON Lines row nested `depth` levels deep (a RecursionError in a decoder without a bound)."""
    return b'{"ref": "c1", "name": "Vejle", "region": ' + b"[" * depth + b"]" * depth + b"}\n"


def wide_json_line(values: int = 1_000_000) -> bytes:
    return b'{"ref": "c1", "name": "Vejle", "region": [' + b"0," * values + b"0]}\n"


def companies_csv(rows: int, *, prefix: str = "legit") -> bytes:
    lines = ["ref,name,sector,region,description"]
    lines += [
        f"{prefix}-{n},Company {n} A/S,metal,DK-82,We machine steel parts and want fewer defects on line {n}."
        for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def needs_csv(rows: int, *, company_ref: str, prefix: str = "legit-need") -> bytes:
    lines = ["ref,company_ref,title,description"]
    lines += [
        f"{prefix}-{n},{company_ref},Sorting castings {n},Parts are checked by hand and defects reach customers."
        for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()
