"""The SME member's pages under /sme: its needs, the suggestions released for them, its answers, its data.

Thin routes: the rules (scoping, what is released, what an answer does) are app/sme/service.py's.
The company's page may also be opened by staff of the tenant.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app.core.deps import MatcherDep, SessionDep, SettingsDep
from app.core.errors import AppError
from app.engagements.pages import member_context
from app.models import Person, Role
from app.sme import service as sme
from app.web.forms import form_problem, optional_int
from app.web.i18n import LANGUAGES, N_
from app.web.rendering import flash, render, say_problem, translate
from app.web.security import CsrfDep, SmeDep, require_roles, sign_out
from matching.types import REGIONS

router = APIRouter(prefix="/sme", include_in_schema=False)

CompanyReaderDep = Annotated[Person, Depends(require_roles(Role.sme, Role.curator, Role.facilitator))]
# The languages a need may be written in, and those an SME may ask its provider to speak.
NEED_LANGUAGES = tuple(LANGUAGES)
SPOKEN_LANGUAGES = ("da", "en", "de", "sv", "nb", "nl")


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _problem(request: Request, exc: AppError) -> Response:
    return render(request, "error.html", {"message": say_problem(request, exc)}, status_code=exc.status)


def _choices() -> dict[str, object]:
    return {"need_languages": NEED_LANGUAGES, "spoken_languages": SPOKEN_LANGUAGES, "regions": REGIONS}


@router.get("", response_class=HTMLResponse)
def home(request: Request, person: SmeDep, session: SessionDep) -> Response:
    try:
        company = sme.own_company(session, person)
        overview = sme.company_overview(session, person, company.id)
    except AppError as exc:
        return _problem(request, exc)
    context = {"company": company, "needs": overview.needs, **member_context(session, person)}
    return render(request, "sme/home.html", context)


@router.get("/companies/{company_id}", response_class=HTMLResponse)
def company_page(company_id: int, request: Request, person: CompanyReaderDep, session: SessionDep) -> Response:
    try:
        overview = sme.company_overview(session, person, company_id)
    except AppError as exc:
        return _problem(request, exc)
    return render(request, "sme/company.html", {"company": overview.company, "needs": overview.needs})


def _need_form(raw: Mapping[str, Any]) -> sme.NeedForm:
    """The need as typed on the form; a number that is not one is a FormProblem naming its field."""
    return sme.NeedForm(
        title=str(raw["title"]).strip(),
        description=str(raw["description"]).strip(),
        lang=str(raw["lang"]),
        budget_eur_max=optional_int(raw["budget"], "budget"),
        min_trl=optional_int(raw["min_trl"], "min_trl"),
        region=raw["region"] or None,
        languages=list(raw["languages"]) or None,
    )


TitleField = Annotated[str, Form(max_length=300)]
TextField = Annotated[str, Form(max_length=20000)]
LangField = Annotated[str, Form(max_length=8)]
OptionalField = Annotated[str | None, Form(max_length=40)]
LanguagesField = Annotated[list[str], Form()]


@router.get("/needs/new", response_class=HTMLResponse)
def new_need_page(request: Request, person: SmeDep, session: SessionDep) -> Response:
    try:
        company = sme.own_company(session, person)
    except AppError as exc:
        return _problem(request, exc)
    blank = {"title": "", "description": "", "lang": person.language or "en", "languages": []}
    return render(request, "sme/need_form.html", {"company": company, "form": blank, "need": None, **_choices()})


def need_fields(
    title: TitleField,
    lang: LangField,
    description: TextField = "",
    budget: OptionalField = None,
    min_trl: OptionalField = None,
    region: OptionalField = None,
    languages: LanguagesField = [],  # noqa: B006 (FastAPI copies defaults)
) -> dict[str, Any]:
    """The need form's fields as posted (describe and edit read the same form)."""
    return dict(
        title=title,
        description=description,
        lang=lang,
        budget=budget,
        min_trl=min_trl,
        region=region,
        languages=languages,
    )


NeedFieldsDep = Annotated[dict[str, Any], Depends(need_fields)]


@router.post("/needs")
def describe_need(
    request: Request,
    _csrf: CsrfDep,
    person: SmeDep,
    session: SessionDep,
    matcher: MatcherDep,
    settings: SettingsDep,
    raw: NeedFieldsDep,
) -> Response:
    try:
        form = _need_form(raw)
        need = sme.describe_need(session, person, matcher=matcher, settings=settings, form=form)
    except (ValidationError, ValueError, AppError) as exc:
        session.rollback()
        return _form_again(request, session, person, raw, exc, need=None)
    flash(
        request, "ok", translate(request, "Your need is saved. A curator reviews the suggestions before you see them.")
    )
    return _redirect(f"/sme/needs/{need.id}")


def _form_again(
    request: Request, session: SessionDep, person: Person, raw: Mapping[str, object], exc: Exception, *, need: object
) -> Response:
    """The form again with what was typed and a plain account of what is wrong (never a 500)."""
    if isinstance(exc, AppError) and exc.status in (403, 404):
        return _problem(request, exc)
    try:
        company = sme.own_company(session, person)
    except AppError as problem:
        return _problem(request, problem)
    context = {"company": company, "form": raw, "need": need, "error": form_problem(request, exc), **_choices()}
    return render(request, "sme/need_form.html", context, status_code=422)


@router.get("/needs/{need_id}", response_class=HTMLResponse)
def need_page(need_id: int, request: Request, person: SmeDep, session: SessionDep, settings: SettingsDep) -> Response:
    try:
        view = sme.need_view(session, person, need_id, threshold=settings.match_threshold)
    except AppError as exc:
        return _problem(request, exc)
    return render(request, "sme/need.html", {"view": view, "need": view.need})


@router.get("/needs/{need_id}/edit", response_class=HTMLResponse)
def edit_need_page(need_id: int, request: Request, person: SmeDep, session: SessionDep) -> Response:
    try:
        company = sme.own_company(session, person)
        need = sme.own_need(session, person, need_id)
    except AppError as exc:
        return _problem(request, exc)
    form = {
        "title": need.title,
        "description": need.description,
        "lang": need.lang,
        "budget": need.budget_eur_max,
        "min_trl": need.min_trl,
        "region": need.region,
        "languages": need.languages or [],
    }
    return render(request, "sme/need_form.html", {"company": company, "form": form, "need": need, **_choices()})


@router.post("/needs/{need_id}")
def edit_need(
    need_id: int,
    request: Request,
    _csrf: CsrfDep,
    person: SmeDep,
    session: SessionDep,
    matcher: MatcherDep,
    settings: SettingsDep,
    raw: NeedFieldsDep,
) -> Response:
    try:
        need = sme.own_need(session, person, need_id)
        form = _need_form(raw)
        sme.edit_need(session, person, need_id, matcher=matcher, settings=settings, form=form)
    except (ValidationError, ValueError, AppError) as exc:
        session.rollback()
        return _form_again(request, session, person, raw, exc, need={"id": need_id})
    flash(request, "ok", translate(request, "Your need is changed."))
    return _redirect(f"/sme/needs/{need.id}")


@router.post("/needs/{need_id}/withdraw")
def withdraw_need(
    need_id: int, request: Request, _csrf: CsrfDep, person: SmeDep, session: SessionDep, matcher: MatcherDep
) -> Response:
    try:
        sme.withdraw_need(session, person, need_id, matcher=matcher)
    except AppError as exc:
        return _problem(request, exc)
    flash(request, "ok", translate(request, "The need is withdrawn."))
    return _redirect("/sme")


def _answer(request: Request, session: SessionDep, need_id: int, answer: Callable[[], object], done: str) -> Response:
    """An SME's answer to a released suggestion: stored, then back to the need's page saying so (or why not)."""
    try:
        answer()
    except AppError as exc:
        session.rollback()
        if exc.status in (403, 404):
            return _problem(request, exc)
        flash(request, "error", say_problem(request, exc))
        return _redirect(f"/sme/needs/{need_id}")
    flash(request, "ok", translate(request, done))
    return _redirect(f"/sme/needs/{need_id}")


@router.post("/needs/{need_id}/matches/{match_id}/introduction")
def ask_introduction(
    need_id: int, match_id: int, request: Request, _csrf: CsrfDep, person: SmeDep, session: SessionDep
) -> Response:
    return _answer(
        request,
        session,
        need_id,
        lambda: sme.ask_introduction(session, person, need_id, match_id),
        N_("Introduction asked for: the cluster puts you in touch with the provider."),
    )


@router.post("/needs/{need_id}/matches/{match_id}/not-relevant")
def not_relevant(
    need_id: int, match_id: int, request: Request, _csrf: CsrfDep, person: SmeDep, session: SessionDep
) -> Response:
    return _answer(
        request,
        session,
        need_id,
        lambda: sme.not_relevant(session, person, need_id, match_id),
        N_("Noted: this suggestion is not relevant. It helps the next suggestions."),
    )


@router.get("/data", response_class=HTMLResponse)
def data_page(request: Request, person: SmeDep, session: SessionDep) -> Response:
    try:
        company = sme.own_company(session, person)
    except AppError as exc:
        return _problem(request, exc)
    return render(request, "sme/data.html", {"company": company})


@router.get("/data/export")
def export_data(request: Request, person: SmeDep, session: SessionDep) -> Response:
    try:
        export = sme.export(session, person)
    except AppError as exc:
        return _problem(request, exc)
    body = json.dumps(export.model_dump(mode="json"), ensure_ascii=False, indent=2)
    name = f"company-{export.company.id}.json"
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@router.post("/data/erase")
def erase_data(
    request: Request,
    _csrf: CsrfDep,
    person: SmeDep,
    session: SessionDep,
    matcher: MatcherDep,
    settings: SettingsDep,
    confirmation: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    try:
        sme.erase(session, person, matcher=matcher, settings=settings, confirmation=confirmation)
    except AppError as exc:
        session.rollback()
        if exc.status in (403, 404):
            return _problem(request, exc)
        flash(request, "error", say_problem(request, exc))
        return _redirect("/sme/data")
    # The company's members went with it, this one included.
    sign_out(request, session)
    flash(request, "ok", translate(request, "Your company's data is erased."))
    return _redirect("/login")
