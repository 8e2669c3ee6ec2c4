"""Schema building blocks every feature shares: input and output bases, checked field types, pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
)

from app.core.settings import MAX_K
from matching.types import CATEGORIES, REGIONS, SECTORS

TITLE_MAX = 300

NAME_MAX = 300


def _member_of(allowed: tuple[str, ...], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"unknown {what} {value!r}; use one of: {', '.join(allowed)}")
        return value

    return check


Category = Annotated[
    str,
    AfterValidator(_member_of(CATEGORIES, "category")),
    Field(json_schema_extra={"enum": list(CATEGORIES)}),
]

Sector = Annotated[
    str,
    AfterValidator(_member_of(SECTORS, "sector")),
    Field(json_schema_extra={"enum": list(SECTORS)}),
]

Region = Annotated[
    str,
    AfterValidator(_member_of(REGIONS, "region")),
    Field(json_schema_extra={"enum": list(REGIONS)}),
]

Language = Annotated[str, Field(pattern=r"^[a-z]{2}$", description="ISO 639-1 code")]

Ref = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^\S+$")]

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _printable(value: str) -> str:
    # Control characters (NUL, ESC, ...) are never part of a profile: PostgreSQL refuses NUL in
    # text, and terminals and CSV exports would act on the others. Tabs and line breaks stay.
    # One regex scan (every text field of every imported row passes here), not a Python loop.
    if _CONTROL.search(value) is None:
        return value
    bad = sorted({f"U+{ord(c):04X}" for c in _CONTROL.findall(value)})
    raise ValueError(f"control characters are not allowed: {', '.join(bad[:5])}")


Title = Annotated[str, Field(min_length=1, max_length=TITLE_MAX), AfterValidator(_printable)]

Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX), AfterValidator(_printable)]

# The cap on long texts is a setting; services enforce it (see services.catalogue.check_text_limits).
LongText = Annotated[str, AfterValidator(_printable)]

Trl = Annotated[int, Field(ge=1, le=9)]

Euros = Annotated[int, Field(ge=0)]

K = Annotated[int, Field(ge=1, le=MAX_K)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _not_null(value: object) -> object:
    # Update fields default to None meaning "leave as is"; an explicit null must not clear them.
    if value is None:
        raise ValueError("may not be null")
    return value


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="items matching the filters, on every page")
    limit: int
    offset: int
    next_cursor: str | None = Field(
        None,
        description="pass as `cursor` for the next page; absent or null on the last page (lists that support it)",
    )
