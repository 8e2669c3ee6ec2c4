"""The provider member's pages under /provider: its offerings (edit, with a preview of the needs they would
fit), the leads released to it and its answers to them. The provider's page may also be opened by staff of
the tenant. Thin routes: the rules are app/provider/service.py's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app.core.deps import MatcherDep, SessionDep, SettingsDep
from app.core.errors import AppError
from app.engagements.pages import member_context
from app.models import Person, Role
from app.provider import service as providers
from app.review.service import Verdict
from app.web.forms import form_problem, optional_int
from app.web.rendering import flash, render, say_problem, translate
from app.web.security import CsrfDep, ProviderDep, require_roles

router = APIRouter(prefix="/provider", include_in_schema=False)

ProviderReaderDep = Annotated[Person, Depends(require_roles(Role.provider, Role.curator, Role.facilitator))]
ANSWERS = (Verdict.interested, Verdict.not_for_us)


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _problem(request: Request, exc: AppError) -> Response:
    return render(request, "error.html", {"message": say_problem(request, exc)}, status_code=exc.status)


@router.get("", response_class=HTMLResponse)
def home(request: Request, person: ProviderDep, session: SessionDep) -> Response:
    try:
        provider = providers.own_provider(session, person)
    except AppError as exc:
        return _problem(request, exc)
    return render(request, "provider/home.html", {"provider": provider})


@router.get("/providers/{provider_id}", response_class=HTMLResponse)
def provider_page(provider_id: int, request: Request, person: ProviderReaderDep, session: SessionDep) -> Response:
    try:
        overview = providers.provider_overview(session, person, provider_id)
    except AppError as exc:
        return _problem(request, exc)
    return render(
        request,
        "provider/provider.html",
        {"provider": overview.provider, "offerings": overview.offerings, "leads": overview.leads},
    )


@router.get("/leads", response_class=HTMLResponse)
def leads_page(request: Request, person: ProviderDep, session: SessionDep, settings: SettingsDep) -> Response:
    try:
        provider = providers.own_provider(session, person)
        leads = providers.leads(session, person, threshold=settings.match_threshold)
    except AppError as exc:
        return _problem(request, exc)
    context = {"provider": provider, "leads": leads, **member_context(session, person)}
    return render(request, "provider/leads.html", context)


@router.post("/leads/{match_id}/answer")
def answer_lead(
    match_id: int,
    request: Request,
    _csrf: CsrfDep,
    person: ProviderDep,
    session: SessionDep,
    verdict: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    if verdict not in ANSWERS:
        return render(
            request, "error.html", {"message": translate(request, "Answer interested or not for us.")}, status_code=422
        )
    try:
        providers.answer_lead(session, person, match_id, Verdict(verdict))
    except AppError as exc:
        session.rollback()
        return _problem(request, exc)
    flash(request, "ok", translate(request, "Your answer is saved: the SME and the curators see it."))
    return _redirect("/provider/leads")


def _offering_form(
    title: str, description: str, trl: str | None, price_min: str | None, price_max: str | None
) -> providers.OfferingForm:
    return providers.OfferingForm(
        title=title.strip(),
        description=description.strip(),
        trl=optional_int(trl, "trl"),
        price_min_eur=optional_int(price_min, "price_min_eur"),
        price_max_eur=optional_int(price_max, "price_max_eur"),
    )


@router.get("/offerings/{technology_id}", response_class=HTMLResponse)
def offering_page(technology_id: int, request: Request, person: ProviderDep, session: SessionDep) -> Response:
    try:
        technology = providers.own_offering(session, person, technology_id)
    except AppError as exc:
        return _problem(request, exc)
    form = {
        "title": technology.title,
        "description": technology.description,
        "trl": technology.trl,
        "price_min": technology.price_min_eur,
        "price_max": technology.price_max_eur,
    }
    return render(request, "provider/offering.html", {"technology": technology, "form": form, "preview": None})


TitleField = Annotated[str, Form(max_length=300)]
TextField = Annotated[str, Form(max_length=20000)]
NumberField = Annotated[str | None, Form(max_length=40)]


@router.post("/offerings/{technology_id}")
def edit_offering(
    technology_id: int,
    request: Request,
    _csrf: CsrfDep,
    person: ProviderDep,
    session: SessionDep,
    matcher: MatcherDep,
    settings: SettingsDep,
    title: TitleField,
    description: TextField = "",
    trl: NumberField = None,
    price_min: NumberField = None,
    price_max: NumberField = None,
    action: Annotated[str, Form(max_length=20)] = "save",
) -> Response:
    """Saves the offering, or (action "preview") shows the needs the edited text would fit, saving nothing."""
    raw = {"title": title, "description": description, "trl": trl, "price_min": price_min, "price_max": price_max}
    try:
        technology = providers.own_offering(session, person, technology_id)
    except AppError as exc:
        return _problem(request, exc)
    try:
        form = _offering_form(title, description, trl, price_min, price_max)
        if action == "preview":
            found = providers.preview(session, person, technology_id, matcher=matcher, settings=settings, form=form)
            context = {"technology": technology, "form": raw, "preview": found}
            return render(request, "provider/offering.html", context)
        providers.edit_offering(session, person, technology_id, matcher=matcher, settings=settings, form=form)
    except (ValidationError, ValueError, AppError) as exc:
        session.rollback()
        if isinstance(exc, AppError) and exc.status in (403, 404):
            return _problem(request, exc)
        context = {"technology": technology, "form": raw, "preview": None, "error": form_problem(request, exc)}
        return render(request, "provider/offering.html", context, status_code=422)
    flash(request, "ok", translate(request, "The offering is saved."))
    return _redirect(f"/provider/offerings/{technology_id}")
