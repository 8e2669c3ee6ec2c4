"""FastAPI dependencies as `Annotated` aliases: session, settings, matcher, paging and k."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from app.core.database import unit_of_work
from app.core.errors import NotReady, ValidationProblem
from app.core.settings import MAX_K, Settings
from matching.matcher import Matcher

DEFAULT_PAGE_SIZE = 20


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One unit of work per request: commit when the route succeeds, roll back when it raises."""
    with unit_of_work(request.app.state.session_factory) as session:
        yield session


def get_matcher(request: Request) -> Matcher:
    matcher: Matcher | None = request.app.state.matcher
    if matcher is None:
        raise NotReady("the matching index is not loaded")
    return matcher


# scope="function": the commit happens before the response is sent, so a failed commit is
# reported to the client instead of being lost after a 2xx.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
MatcherDep = Annotated[Matcher, Depends(get_matcher)]


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int
    offset: int


def get_page_params(
    settings: SettingsDep,
    limit: Annotated[int | None, Query(ge=1, description="page size, at most max_page_size")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PageParams:
    if limit is None:
        limit = min(DEFAULT_PAGE_SIZE, settings.max_page_size)
    if limit > settings.max_page_size:
        raise ValidationProblem.field(("query", "limit"), f"at most {settings.max_page_size} items per page")
    return PageParams(limit=limit, offset=offset)


def get_k(
    settings: SettingsDep,
    k: Annotated[int | None, Query(ge=1, le=MAX_K, description="number of results")] = None,
) -> int:
    return k if k is not None else settings.default_k


PageDep = Annotated[PageParams, Depends(get_page_params)]
KDep = Annotated[int, Depends(get_k)]
