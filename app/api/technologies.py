"""Routes for technologies (providers' offerings) and their leads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.api.paging import CursorDep, page_of
from app.auth import AnyKeyDep, CatalogueWriteDep, MatchesReadDep
from app.deps import KDep, MatcherDep, SessionDep, SettingsDep
from app.schemas import Page, TechnologyCreate, TechnologyLeads, TechnologyRead, TechnologyUpdate
from app.services import catalogue, matches

router = APIRouter(prefix="/technologies", tags=["technologies"])


@router.get("")
def list_technologies(
    principal: AnyKeyDep,
    session: SessionDep,
    settings: SettingsDep,
    page: CursorDep,
    provider_id: Annotated[int | None, Query(description="only this provider's")] = None,
) -> Page[TechnologyRead]:
    rows, total = catalogue.list_technologies(
        session,
        limit=page.fetch,
        offset=page.offset,
        after=page.after,
        provider_id=provider_id,
        tenant=principal.tenant,
        shared=settings.share_catalogue,
    )
    return page_of(TechnologyRead, rows, total, page)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_technology(
    principal: CatalogueWriteDep,
    body: TechnologyCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    matcher: MatcherDep,
) -> TechnologyRead:
    technology = catalogue.create_technology(
        session, matcher=matcher, data=body, settings=settings, tenant=principal.tenant
    )
    response.headers["Location"] = request.app.url_path_for("get_technology", technology_id=technology.id)
    return TechnologyRead.model_validate(technology)


@router.get("/{technology_id}")
def get_technology(
    principal: AnyKeyDep, technology_id: int, session: SessionDep, settings: SettingsDep
) -> TechnologyRead:
    technology = catalogue.get_technology(
        session, technology_id=technology_id, tenant=principal.tenant, shared=settings.share_catalogue
    )
    return TechnologyRead.model_validate(technology)


@router.patch("/{technology_id}")
def update_technology(
    principal: CatalogueWriteDep,
    technology_id: int,
    body: TechnologyUpdate,
    session: SessionDep,
    settings: SettingsDep,
    matcher: MatcherDep,
) -> TechnologyRead:
    technology = catalogue.update_technology(
        session,
        matcher=matcher,
        technology_id=technology_id,
        data=body,
        settings=settings,
        tenant=principal.tenant,
    )
    return TechnologyRead.model_validate(technology)


@router.delete("/{technology_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_technology(
    principal: CatalogueWriteDep, technology_id: int, session: SessionDep, settings: SettingsDep, matcher: MatcherDep
) -> None:
    catalogue.delete_technology(
        session,
        matcher=matcher,
        technology_id=technology_id,
        tenant=principal.tenant,
        shared=settings.share_catalogue,
    )


@router.get("/{technology_id}/leads")
def technology_leads(
    principal: MatchesReadDep,
    technology_id: int,
    session: SessionDep,
    settings: SettingsDep,
    matcher: MatcherDep,
    k: KDep,
) -> TechnologyLeads:
    return matches.technology_leads(
        session,
        matcher=matcher,
        technology_id=technology_id,
        k=k,
        tenant=principal.tenant,
        shared=settings.share_catalogue,
    )
