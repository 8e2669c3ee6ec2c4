"""Routes for technology providers."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from app.api.paging import CursorDep, page_of
from app.auth import AnyKeyDep, CatalogueWriteDep
from app.deps import MatcherDep, SessionDep, SettingsDep
from app.schemas import Page, ProviderCreate, ProviderRead, ProviderUpdate
from app.services import catalogue

router = APIRouter(prefix="/providers", tags=["providers"])


@router.get("")
def list_providers(
    principal: AnyKeyDep, session: SessionDep, settings: SettingsDep, page: CursorDep
) -> Page[ProviderRead]:
    rows, total = catalogue.list_providers(
        session,
        limit=page.fetch,
        offset=page.offset,
        after=page.after,
        tenant=principal.tenant,
        shared=settings.share_catalogue,
    )
    return page_of(ProviderRead, rows, total, page)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_provider(
    principal: CatalogueWriteDep,
    body: ProviderCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
) -> ProviderRead:
    provider = catalogue.create_provider(session, data=body, settings=settings, tenant=principal.tenant)
    response.headers["Location"] = request.app.url_path_for("get_provider", provider_id=provider.id)
    return ProviderRead.model_validate(provider)


@router.get("/{provider_id}")
def get_provider(principal: AnyKeyDep, provider_id: int, session: SessionDep, settings: SettingsDep) -> ProviderRead:
    provider = catalogue.get_provider(
        session, provider_id=provider_id, tenant=principal.tenant, shared=settings.share_catalogue
    )
    return ProviderRead.model_validate(provider)


@router.patch("/{provider_id}")
def update_provider(
    principal: CatalogueWriteDep,
    provider_id: int,
    body: ProviderUpdate,
    session: SessionDep,
    settings: SettingsDep,
    matcher: MatcherDep,
) -> ProviderRead:
    provider = catalogue.update_provider(
        session, matcher=matcher, provider_id=provider_id, data=body, settings=settings, tenant=principal.tenant
    )
    return ProviderRead.model_validate(provider)


@router.delete("/{provider_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_provider(principal: CatalogueWriteDep, provider_id: int, session: SessionDep, settings: SettingsDep) -> None:
    catalogue.delete_provider(
        session, provider_id=provider_id, tenant=principal.tenant, shared=settings.share_catalogue
    )
