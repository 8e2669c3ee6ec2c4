"""Routes of the catalogue: providers, technologies, companies and needs (matches and leads: app.matches)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from app.catalogue import service as catalogue
from app.catalogue.schemas import (
    CompanyCreate,
    CompanyRead,
    CompanyUpdate,
    NeedCreate,
    NeedRead,
    NeedUpdate,
    ProviderCreate,
    ProviderRead,
    ProviderUpdate,
    TechnologyCreate,
    TechnologyRead,
    TechnologyUpdate,
)
from app.core.auth import AnyKeyDep, CatalogueWriteDep, NeedsWriteDep, ProfileReadDep
from app.core.deps import MatcherDep, SessionDep, SettingsDep
from app.core.paging import CursorDep, page_of
from app.core.schemas import Page
from app.privacy import service as privacy

# Refs are unique per tenant: a second row with the same ref is refused (a retried form creates no duplicate).
DUPLICATE_REF: dict[int | str, dict[str, Any]] = {409: {"description": "the ref is already used by another row"}}

providers = APIRouter(prefix="/providers", tags=["providers"])


@providers.get("")
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


@providers.post("", status_code=status.HTTP_201_CREATED, responses=DUPLICATE_REF)
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


@providers.get("/{provider_id}")
def get_provider(principal: AnyKeyDep, provider_id: int, session: SessionDep, settings: SettingsDep) -> ProviderRead:
    provider = catalogue.get_provider(
        session, provider_id=provider_id, tenant=principal.tenant, shared=settings.share_catalogue
    )
    return ProviderRead.model_validate(provider)


@providers.patch("/{provider_id}", responses=DUPLICATE_REF)
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


@providers.delete(
    "/{provider_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "the provider still has technologies; delete them first"}},
)
def delete_provider(principal: CatalogueWriteDep, provider_id: int, session: SessionDep, settings: SettingsDep) -> None:
    catalogue.delete_provider(
        session, provider_id=provider_id, tenant=principal.tenant, shared=settings.share_catalogue
    )


technologies = APIRouter(prefix="/technologies", tags=["technologies"])


@technologies.get("")
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


@technologies.post("", status_code=status.HTTP_201_CREATED, responses=DUPLICATE_REF)
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


@technologies.get("/{technology_id}")
def get_technology(
    principal: AnyKeyDep, technology_id: int, session: SessionDep, settings: SettingsDep
) -> TechnologyRead:
    technology = catalogue.get_technology(
        session, technology_id=technology_id, tenant=principal.tenant, shared=settings.share_catalogue
    )
    return TechnologyRead.model_validate(technology)


@technologies.patch("/{technology_id}", responses=DUPLICATE_REF)
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


@technologies.delete("/{technology_id}", status_code=status.HTTP_204_NO_CONTENT)
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


companies = APIRouter(prefix="/companies", tags=["companies"])


@companies.get("")
def list_companies(principal: ProfileReadDep, session: SessionDep, page: CursorDep) -> Page[CompanyRead]:
    rows, total = catalogue.list_companies(
        session, limit=page.fetch, offset=page.offset, after=page.after, tenant=principal.tenant
    )
    return page_of(CompanyRead, rows, total, page)


@companies.post("", status_code=status.HTTP_201_CREATED, responses=DUPLICATE_REF)
def create_company(
    principal: NeedsWriteDep,
    body: CompanyCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
) -> CompanyRead:
    company = catalogue.create_company(session, data=body, settings=settings, tenant=principal.tenant)
    response.headers["Location"] = request.app.url_path_for("get_company", company_id=company.id)
    return CompanyRead.model_validate(company)


@companies.get("/{company_id}")
def get_company(principal: ProfileReadDep, company_id: int, session: SessionDep) -> CompanyRead:
    return CompanyRead.model_validate(catalogue.get_company(session, company_id=company_id, tenant=principal.tenant))


@companies.patch("/{company_id}", responses=DUPLICATE_REF)
def update_company(
    principal: NeedsWriteDep,
    company_id: int,
    body: CompanyUpdate,
    session: SessionDep,
    settings: SettingsDep,
    matcher: MatcherDep,
) -> CompanyRead:
    company = catalogue.update_company(
        session, matcher=matcher, company_id=company_id, data=body, settings=settings, tenant=principal.tenant
    )
    return CompanyRead.model_validate(company)


@companies.delete("/{company_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_company(
    principal: NeedsWriteDep, company_id: int, session: SessionDep, settings: SettingsDep, matcher: MatcherDep
) -> None:
    """Erase the company (GDPR): its needs, their matches, decisions, engagements, webhook deliveries, cached
    vectors and index entries go with it, and the saved index is rewritten (README "Privacy: erasure and access")."""
    privacy.erase_company(
        session, matcher=matcher, company_id=company_id, tenant=principal.tenant, index_dir=settings.index_dir
    )


needs = APIRouter(prefix="/needs", tags=["needs"])


@needs.get("")
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


@needs.post("", status_code=status.HTTP_201_CREATED, responses=DUPLICATE_REF)
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


@needs.get("/{need_id}")
def get_need(principal: ProfileReadDep, need_id: int, session: SessionDep) -> NeedRead:
    return NeedRead.model_validate(catalogue.get_need(session, need_id=need_id, tenant=principal.tenant))


@needs.patch("/{need_id}", responses=DUPLICATE_REF)
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


@needs.delete("/{need_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_need(principal: NeedsWriteDep, need_id: int, session: SessionDep, matcher: MatcherDep) -> None:
    catalogue.delete_need(session, matcher=matcher, need_id=need_id, tenant=principal.tenant)


router = APIRouter()
for part in (providers, technologies, companies, needs):
    router.include_router(part)
