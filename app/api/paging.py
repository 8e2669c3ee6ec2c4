"""Building a Page response from a service's rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from app.deps import PageParams
from app.schemas import Page

ReadT = TypeVar("ReadT", bound=BaseModel)


def page_of(
    schema: type[ReadT], rows: Sequence[Any], total: int, params: PageParams
) -> Page[ReadT]:
    return Page[schema](  # type: ignore[valid-type]
        items=[schema.model_validate(row) for row in rows],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )
