"""Routes for SME needs and their stored matches."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.api.paging import CursorDep, page_of
from app.auth import MatchesReadDep, NeedsWriteDep, ProfileReadDep
from app.deps import KDep, MatcherDep, SessionDep, SettingsDep
from app.schemas import NeedCreate, NeedMatches, NeedRead, NeedUpdate, Page
from app.services import catalogue, matches

router = APIRouter(prefix="/needs", tags=["needs"])


@router.get("")
def list_needs(
    principal: ProfileReadDep,
    session: SessionDep,
    page: CursorDep,
    company_id: Annotated[int | None, Query(description="only this company's")] = None,
) -> Page[NeedRead]:
    rows, total = catalogue.list_needs(
        session,
        limit=page.fetch,
        offset=page.offset,
        after=page.after,
        company_id=company_id,
        tenant=principal.tenant,
    )
    return page_of(NeedRead, rows, total, page)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_need(
    principal: NeedsWriteDep,
    body: NeedCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    matcher: MatcherDep,
) -> NeedRead:
    need = catalogue.create_need(session, matcher=matcher, data=body, settings=settings, tenant=principal.tenant)
    response.headers["Location"] = request.app.url_path_for("get_need", need_id=need.id)
    return NeedRead.model_validate(need)


@router.get("/{need_id}")
def get_need(principal: ProfileReadDep, need_id: int, session: SessionDep) -> NeedRead:
    return NeedRead.model_validate(catalogue.get_need(session, need_id=need_id, tenant=principal.tenant))


@router.patch("/{need_id}")
def update_need(
    principal: NeedsWriteDep,
    need_id: int,
    body: NeedUpdate,
    session: SessionDep,
    settings: SettingsDep,
    matcher: MatcherDep,
) -> NeedRead:
    need = catalogue.update_need(
        session, matcher=matcher, need_id=need_id, data=body, settings=settings, tenant=principal.tenant
    )
    return NeedRead.model_validate(need)


@router.delete("/{need_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_need(principal: NeedsWriteDep, need_id: int, session: SessionDep, matcher: MatcherDep) -> None:
    catalogue.delete_need(session, matcher=matcher, need_id=need_id, tenant=principal.tenant)


@router.post("/{need_id}/matches")
def compute_matches(
    principal: NeedsWriteDep, need_id: int, session: SessionDep, settings: SettingsDep, matcher: MatcherDep, k: KDep
) -> NeedMatches:
    """Compute and store the need's matches (proposed, for curator review)."""
    return matches.compute_matches(
        session, matcher=matcher, need_id=need_id, k=k, tenant=principal.tenant, shared=settings.share_catalogue
    )


@router.get("/{need_id}/matches")
def read_matches(principal: MatchesReadDep, need_id: int, session: SessionDep, settings: SettingsDep) -> NeedMatches:
    """Approved matches; proposed ones too, marked, where the show_unreviewed setting is on."""
    return matches.read_matches(
        session, need_id=need_id, show_unreviewed=settings.show_unreviewed, tenant=principal.tenant
    )
