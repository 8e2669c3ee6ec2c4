"""The provider member's pages under /provider: its home and its provider's page (staff of the tenant may open
that too)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from app.core.deps import SessionDep
from app.core.errors import AppError
from app.models import Person, Role
from app.provider import service as providers
from app.web.rendering import render
from app.web.security import ProviderDep, require_roles

router = APIRouter(prefix="/provider", include_in_schema=False)

ProviderReaderDep = Annotated[Person, Depends(require_roles(Role.provider, Role.curator, Role.facilitator))]


@router.get("", response_class=HTMLResponse)
def home(request: Request, person: ProviderDep, session: SessionDep) -> Response:
    try:
        provider = providers.own_provider(session, person)
    except AppError as exc:
        return render(request, "error.html", {"message": exc.detail}, status_code=exc.status)
    return render(request, "provider/home.html", {"provider": provider})


@router.get("/providers/{provider_id}", response_class=HTMLResponse)
def provider_page(provider_id: int, request: Request, person: ProviderReaderDep, session: SessionDep) -> Response:
    try:
        overview = providers.provider_overview(session, person, provider_id)
    except AppError as exc:
        return render(request, "error.html", {"message": exc.detail}, status_code=exc.status)
    return render(
        request,
        "provider/provider.html",
        {"provider": overview.provider, "offerings": overview.offerings, "leads": overview.leads},
    )
