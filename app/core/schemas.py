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
    field_validator,
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


# NUL is refused in every text a request carries, by this one rule: in request bodies here (every body
# is an Input), in URLs and form bodies by app.core.http_limits.RefuseNul. PostgreSQL cannot store it
# in text or JSON while SQLite can, so without the rule the same request was a 201 on one and a 422
# on the other.
NUL = "\x00"
NUL_MESSAGE = "the NUL character (U+0000) is not allowed in text"


def refuse_nul(value: object) -> object:
    """`value` unchanged, or ValueError when any string in it (keys included, at any depth) holds NUL."""
    pending = [value]
    while pending:  # a loop, not recursion: a body may nest as deep as the JSON decoder allowed
        item = pending.pop()
        if isinstance(item, str):
            if NUL in item:
                raise ValueError(NUL_MESSAGE)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            pending.extend(item)
    return value


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        return refuse_nul(value)


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
