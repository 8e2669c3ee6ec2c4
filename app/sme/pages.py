"""The SME member's pages under /sme: its home and its company's page (staff of the tenant may open that too)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from app.core.deps import SessionDep
from app.core.errors import AppError
from app.models import Person, Role
from app.sme import service as sme
from app.web.rendering import render
from app.web.security import SmeDep, require_roles

router = APIRouter(prefix="/sme", include_in_schema=False)

CompanyReaderDep = Annotated[Person, Depends(require_roles(Role.sme, Role.curator, Role.facilitator))]


@router.get("", response_class=HTMLResponse)
def home(request: Request, person: SmeDep, session: SessionDep) -> Response:
    try:
        company = sme.own_company(session, person)
    except AppError as exc:
        return render(request, "error.html", {"message": exc.detail}, status_code=exc.status)
    return render(request, "sme/home.html", {"company": company})


@router.get("/companies/{company_id}", response_class=HTMLResponse)
def company_page(company_id: int, request: Request, person: CompanyReaderDep, session: SessionDep) -> Response:
    try:
        overview = sme.company_overview(session, person, company_id)
    except AppError as exc:
        return render(request, "error.html", {"message": exc.detail}, status_code=exc.status)
    return render(request, "sme/company.html", {"company": overview.company, "needs": overview.needs})
