"""Paging of lists: offset or an opaque cursor (`next_cursor`), and building a Page from a service's rows."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

from app.core.deps import PageParams, get_page_params
from app.core.errors import ValidationProblem
from app.core.schemas import Page

ReadT = TypeVar("ReadT", bound=BaseModel)

_CURSOR_VERSION = 1


@dataclass(frozen=True, slots=True)
class CursorParams:
    """A page of a list ordered by id: from `offset`, or after the id a cursor carries (then offset is 0)."""

    limit: int
    offset: int
    after: int | None

    @property
    def fetch(self) -> int:
        """Rows to ask for: one more than the page, to know whether another page follows."""
        return self.limit + 1


def encode_cursor(after: int) -> str:
    raw = json.dumps({"v": _CURSOR_VERSION, "after": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> int:
    """The id a cursor points after; 422 for anything this service did not issue."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        after = data["after"] if data.get("v") == _CURSOR_VERSION else None
    except (binascii.Error, ValueError, TypeError, KeyError, AttributeError):
        after = None
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        raise ValidationProblem.field(("query", "cursor"), "not a cursor from a previous page's next_cursor")
    return after


def get_cursor_params(
    page: Annotated[PageParams, Depends(get_page_params)],
    cursor: Annotated[
        str | None,
        Query(max_length=200, description="`next_cursor` of the previous page; stable while rows are added"),
    ] = None,
) -> CursorParams:
    if cursor is None:
        return CursorParams(limit=page.limit, offset=page.offset, after=None)
    if page.offset:
        raise ValidationProblem.field(("query", "offset"), "give either offset or cursor, not both")
    return CursorParams(limit=page.limit, offset=0, after=decode_cursor(cursor))


CursorDep = Annotated[CursorParams, Depends(get_cursor_params)]


def page_of(schema: type[ReadT], rows: Sequence[Any], total: int, params: PageParams | CursorParams) -> Page[ReadT]:
    """The page; with CursorParams, `rows` may hold one extra row, whose presence means a next page."""
    next_cursor = None
    if isinstance(params, CursorParams):
        more = len(rows) > params.limit
        rows = rows[: params.limit]
        next_cursor = encode_cursor(rows[-1].id) if more and rows else None
    return Page[schema](  # type: ignore[valid-type]
        items=[schema.model_validate(row) for row in rows],
        total=total,
        limit=params.limit,
        offset=params.offset,
        next_cursor=next_cursor,
    )
