"""Opening an uploaded XLSX workbook within bounds that hold before openpyxl allocates for it.

openpyxl (read-only mode, XML through defusedxml) reads the values, but three of its reads grow
with what the file declares rather than with what an import can use: it loads every shared string
into a list when the workbook opens (keeping each parsed element until the end), it builds every
cell of a row before `max_col` drops the ones past it, and it parses styles, theme and the other
small parts whole. A workbook is a zip of XML, so a few hundred KB can unpack to hundreds of MB of
each. Here the zip directory, every part's size, every part's elements (a sheet's rows and cells
too, and all parts' together), and the shared strings (read by a bounded reader handed to openpyxl)
are counted in streaming passes that keep no tree, and a file past a bound is refused (413) before
openpyxl reads it.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, cast
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from openpyxl.cell.text import Text
from openpyxl.reader.excel import ExcelReader
from openpyxl.workbook import Workbook
from openpyxl.xml.constants import SHARED_STRINGS

from app.core.errors import BadRequest, PayloadTooLarge

# A workbook from Excel, LibreOffice or a library holds a dozen parts.
MAX_MEMBERS = 1000
# All parts together may unpack to this many times the upload limit, each part to PART_RATIO times.
MAX_UNPACK_RATIO = 20
PART_RATIO = 2
# Parts openpyxl parses whole (workbook, styles, theme, relationships, properties): elements each.
# Style-bloated workbooks have tens of thousands of styles; this is ten times that.
MAX_PART_ELEMENTS = 250_000
MAX_XML_DEPTH = 64
# Cells in one row of the first sheet (openpyxl reads the first MAX_COLUMNS of them).
MAX_CELLS_PER_ROW = 1024
# Distinct strings per row an import may need (our widest resource has a dozen columns).
SHARED_STRINGS_PER_ROW = 16
# Elements per shared string: <si><t> for plain text, more for runs of rich text.
ELEMENTS_PER_STRING = 4
WORKSHEETS = "xl/worksheets/"
USUAL_SHARED_STRINGS = "xl/sharedStrings.xml"


@dataclass(frozen=True, slots=True)
class WorkbookLimits:
    max_bytes: int
    # Rows of the first sheet, empty ones and the header included.
    max_rows_read: int
    # Cells of the first sheet openpyxl reads (MAX_COLUMNS per row).
    max_columns: int
    max_data_rows: int

    @property
    def max_part_bytes(self) -> int:
        return PART_RATIO * self.max_bytes

    @property
    def max_shared_strings(self) -> int:
        return (self.max_data_rows + 1) * SHARED_STRINGS_PER_ROW

    @property
    def max_shared_chars(self) -> int:
        # No more text than the upload limit allows a CSV file to carry.
        return self.max_bytes

    @property
    def max_sheet_elements(self) -> int:
        return (self.max_data_rows + 1) * self.max_columns

    @property
    def max_shared_string_elements(self) -> int:
        return ELEMENTS_PER_STRING * self.max_shared_strings

    @property
    def max_workbook_elements(self) -> int:
        # A sheet and the shared strings at their largest, and room for the small parts.
        return self.max_sheet_elements + self.max_shared_string_elements + 4 * MAX_PART_ELEMENTS


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _too_large(detail: str) -> PayloadTooLarge:
    return PayloadTooLarge(f"{detail}; split the workbook or save it as CSV")


# The zip


def _declared_members(data: bytes) -> int:
    """Entries the zip's end record declares, read before zipfile builds its directory in memory."""
    tail = data[-(22 + 65_535) :]
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise BadRequest("not a readable XLSX file: no zip directory")
    (entries,) = struct.unpack("<H", tail[at + 10 : at + 12])
    return int(entries)


def open_archive(data: bytes, limits: WorkbookLimits) -> zipfile.ZipFile:
    """The zip, once its directory and the sizes it declares are within bounds (zipfile enforces them)."""
    members = _declared_members(data)
    # 0xFFFF: the count is in a ZIP64 record, which no workbook of ours needs.
    if members > MAX_MEMBERS:
        raise _too_large(f"the workbook holds more than {MAX_MEMBERS} parts")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise BadRequest(f"not a readable XLSX file: {type(exc).__name__}") from exc
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        archive.close()
        raise _too_large(f"the workbook holds more than {MAX_MEMBERS} parts")
    unpacked = sum(info.file_size for info in infos)
    limit = MAX_UNPACK_RATIO * limits.max_bytes
    if unpacked > limit:
        archive.close()
        raise _too_large(f"the workbook unpacks to {unpacked} bytes, more than {limit}")
    for info in infos:
        if info.file_size > limits.max_part_bytes:
            archive.close()
            size, limit = info.file_size, limits.max_part_bytes
            raise _too_large(f"its part {info.filename} unpacks to {size} bytes, more than {limit}")
    return archive


# Streaming passes over XML parts


class _Budget:
    """XML elements the whole workbook may still hold (every part is walked once before openpyxl reads)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.left = total


def _stream(
    source: IO[bytes],
    *,
    part: str,
    max_elements: int,
    budget: _Budget | None = None,
    on_start: Callable[[Element], None] | None = None,
    on_end: Callable[[Element, list[Element]], bool] | None = None,
) -> None:
    """Walks a part's elements keeping only the open ones (an element is dropped when it ends).

    `on_end(element, open_elements)` may return True to keep the element in its parent a while
    (the shared-strings reader keeps the runs of a string until the string ends).
    """
    elements = 0
    path: list[Element] = []
    try:
        for event, element in iterparse(source, events=("start", "end")):
            if event == "start":
                elements += 1
                if elements > max_elements:
                    raise _too_large(f"its part {part} has more than {max_elements} XML elements")
                if budget is not None:
                    budget.left -= 1
                    if budget.left < 0:
                        raise _too_large(f"it holds more than {budget.total} XML elements in all")
                if len(path) >= MAX_XML_DEPTH:
                    raise _too_large(f"its part {part} nests XML more than {MAX_XML_DEPTH} levels deep")
                if on_start is not None:
                    on_start(element)
                path.append(element)
                continue
            path.pop()
            keep = on_end(element, path) if on_end is not None else False
            if path and not keep:
                path[-1].remove(element)
    except (ParseError, DefusedXmlException, zipfile.BadZipFile, EOFError, OSError) as exc:
        raise BadRequest(f"not a readable XLSX file: {part}: {type(exc).__name__}") from exc


def _is_sheet_part(name: str) -> bool:
    """Where workbooks keep their sheets: checked as sheets (rows, cells) whatever refers to them."""
    return name.startswith(WORKSHEETS) and "/_rels/" not in name


def check_parts(archive: zipfile.ZipFile, limits: WorkbookLimits) -> None:
    """Every XML part, walked once before openpyxl reads any: parts under xl/worksheets/ as sheets,
    the shared strings within their element bound, every other part (openpyxl parses those whole) within
    MAX_PART_ELEMENTS, and all of them together within the workbook's budget. Nothing is exempt by the
    role the manifest gives a part, so a part cannot escape its bound by being named as something else."""
    budget = _Budget(limits.max_workbook_elements)
    for info in archive.infolist():
        name = info.filename
        if not name.endswith((".xml", ".rels")):
            continue  # pictures and other binaries are not read in read-only mode
        with archive.open(info) as source:
            if _is_sheet_part(name):
                check_sheet(source, part=name, limits=limits, budget=budget)
            elif name == USUAL_SHARED_STRINGS:
                _stream(source, part=name, max_elements=limits.max_shared_string_elements, budget=budget)
            else:
                _stream(source, part=name, max_elements=MAX_PART_ELEMENTS, budget=budget)


def read_shared_strings(source: IO[bytes], *, part: str, limits: WorkbookLimits) -> list[str]:
    """openpyxl's `read_string_table`, with the number of strings and their characters bounded."""
    strings: list[str] = []
    chars = 0

    def on_end(element: Element, path: list[Element]) -> bool:
        nonlocal chars
        if len(path) != 1:
            return True  # inside a string: kept until the string ends, bounded by the element count
        if _local(element.tag) == "si":
            if len(strings) >= limits.max_shared_strings:
                raise _too_large(f"it holds more than {limits.max_shared_strings} shared strings")
            # openpyxl's stubs name their own element protocol; an ElementTree element is what it reads.
            shared = Text.from_tree(cast(Any, element))
            text = (shared.content or "" if shared is not None else "").replace("x005F_", "")
            chars += len(text)
            if chars > limits.max_shared_chars:
                raise _too_large(f"its shared strings hold more than {limits.max_shared_chars} characters")
            strings.append(text)
        return False

    _stream(source, part=part, max_elements=limits.max_shared_string_elements, on_end=on_end)
    return strings


def check_sheet(source: IO[bytes], *, part: str, limits: WorkbookLimits, budget: _Budget | None = None) -> None:
    """Rows (empty ones too, and the rows a jump in numbering leaves out) and cells per row, counted."""
    rows = 0
    cells = 0
    number = 0

    def on_start(element: Element) -> None:
        nonlocal rows, cells, number
        name = _local(element.tag)
        if name == "row":
            rows += 1
            cells = 0
            declared = element.get("r", "")
            number = int(declared) if declared.isdigit() else number + 1
            if max(rows, number) > limits.max_rows_read:
                raise _too_large(
                    f"the sheet has more than {limits.max_rows_read - 1} rows below its header, counting empty "
                    "ones (delete the empty rows below the data)"
                )
        elif name == "c":
            cells += 1
            if cells > MAX_CELLS_PER_ROW:
                raise _too_large(f"row {number} of the sheet has more than {MAX_CELLS_PER_ROW} cells")

    _stream(source, part=part, max_elements=limits.max_sheet_elements, budget=budget, on_start=on_start)


class _BoundedReader(ExcelReader):  # type: ignore[misc]
    """openpyxl's reader with the shared-strings table read by `read_shared_strings`."""

    def __init__(self, data: bytes, limits: WorkbookLimits) -> None:
        super().__init__(io.BytesIO(data), read_only=True, data_only=False)
        self.limits = limits

    def read_worksheets(self) -> None:
        # openpyxl's read-only sheet parses its whole part for the dimensions when it is made: a first
        # sheet kept outside xl/worksheets/ (so not yet checked as a sheet) is checked before that.
        for _sheet, relation in self.parser.find_sheets():
            if relation.target in self.valid_files and "chartsheet" not in relation.Type:
                if not _is_sheet_part(relation.target):
                    with self.archive.open(relation.target) as source:
                        check_sheet(source, part=relation.target, limits=self.limits)
                break
        super().read_worksheets()

    def read_strings(self) -> None:
        declared = self.package.find(SHARED_STRINGS)
        if declared is None:
            return
        part = declared.PartName[1:]
        with self.archive.open(part) as source:
            self.shared_strings = read_shared_strings(source, part=part, limits=self.limits)


def open_workbook(data: bytes, limits: WorkbookLimits) -> tuple[Workbook, Callable[[], Iterator[Any]]]:
    """The workbook (read-only) and a function that checks its first sheet and iterates its rows.

    Raises 400 for a file that is not a workbook and 413 past a bound; the caller closes the workbook.
    """
    with open_archive(data, limits) as archive:
        check_parts(archive, limits)
    try:
        reader = _BoundedReader(data, limits)
        reader.read()
    except (BadRequest, PayloadTooLarge):
        raise
    except Exception as exc:  # zip, XML and openpyxl errors alike: the upload is not a workbook
        raise BadRequest(f"not a readable XLSX file: {type(exc).__name__}") from exc
    workbook: Workbook = reader.wb

    def first_sheet_rows() -> Iterator[Any]:
        if not workbook.worksheets:
            raise BadRequest("the workbook has no sheet")
        return workbook.worksheets[0].iter_rows(max_col=limits.max_columns)  # type: ignore[no-any-return]

    return workbook, first_sheet_rows
