"""Routes for access to everything stored about a company (GDPR); erasure is DELETE /companies/{id}."""

from __future__ import annotations

from fastapi import APIRouter

from app.core.auth import ProfileReadDep
from app.core.deps import SessionDep
from app.privacy import service as privacy
from app.privacy.schemas import CompanyExport

router = APIRouter(prefix="/companies", tags=["privacy"])


@router.get("/{company_id}/export")
def export_company_data(principal: ProfileReadDep, company_id: int, session: SessionDep) -> CompanyExport:
    """Everything stored about the company: profile, needs, matches with explanations, curator decisions,
    webhook deliveries, its place in demonstration-day plans and which vectors are cached for its texts."""
    return privacy.company_data(session, company_id=company_id, tenant=principal.tenant)
