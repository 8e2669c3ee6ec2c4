"""Routes for SMEs (companies)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from app.api.paging import CursorDep, page_of
from app.auth import NeedsWriteDep, ProfileReadDep
from app.deps import MatcherDep, SessionDep, SettingsDep
from app.schemas import CompanyCreate, CompanyRead, CompanyUpdate, Page
from app.services import catalogue, privacy

router = APIRouter(prefix="/companies", tags=["companies"])


@router.get("")
def list_companies(principal: ProfileReadDep, session: SessionDep, page: CursorDep) -> Page[CompanyRead]:
    rows, total = catalogue.list_companies(
        session, limit=page.fetch, offset=page.offset, after=page.after, tenant=principal.tenant
    )
    return page_of(CompanyRead, rows, total, page)


@router.post("", status_code=status.HTTP_201_CREATED)
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


@router.get("/{company_id}")
def get_company(principal: ProfileReadDep, company_id: int, session: SessionDep) -> CompanyRead:
    return CompanyRead.model_validate(catalogue.get_company(session, company_id=company_id, tenant=principal.tenant))


@router.patch("/{company_id}")
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


@router.delete("/{company_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_company(
    principal: NeedsWriteDep, company_id: int, session: SessionDep, settings: SettingsDep, matcher: MatcherDep
) -> None:
    """Erase the company (GDPR): its needs, their matches, decisions, webhook deliveries, cached vectors and
    index entries go with it, and the saved index is rewritten (README "Privacy: erasure and access")."""
    privacy.erase_company(
        session, matcher=matcher, company_id=company_id, tenant=principal.tenant, index_dir=settings.index_dir
    )
