"""What bulk import and export handle: the four resources and the three file formats (light: the CLI imports it)."""

from __future__ import annotations

from enum import StrEnum


class Resource(StrEnum):
    providers = "providers"
    technologies = "technologies"
    companies = "companies"
    needs = "needs"


class FileFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    jsonl = "jsonl"


# File name endings, for the CLI and for uploads that name their file.
FORMATS_BY_SUFFIX: dict[str, FileFormat] = {
    ".csv": FileFormat.csv,
    ".xlsx": FileFormat.xlsx,
    ".jsonl": FileFormat.jsonl,
    ".ndjson": FileFormat.jsonl,
}
