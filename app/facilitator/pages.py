"""The facilitator's pages under /facilitator: its home, with the tenant's companies and providers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.core.deps import SessionDep
from app.people import service as people
from app.web.rendering import render
from app.web.security import FacilitatorDep

router = APIRouter(prefix="/facilitator", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
def home(request: Request, person: FacilitatorDep, session: SessionDep) -> Response:
    return render(
        request,
        "facilitator/home.html",
        {
            "companies": people.companies_of(session, tenant=person.tenant),
            "providers": people.providers_of(session, tenant=person.tenant),
        },
    )
