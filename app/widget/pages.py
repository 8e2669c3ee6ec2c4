"""Pages of the widget: the form a cluster's website frames, its confirmation, the curators' list of what came."""

from __future__ import annotations

import math
import time
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from app.core.auth import RateLimits
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import AppError, NotReady
from app.core.settings import Settings
from app.models import ApiKey, SubmissionStatus
from app.web.rendering import flash, render, render_bare, say_problem, translate
from app.web.security import CsrfDep, CuratorDep, VisitorDep, client_address
from app.widget import service as widget
from app.widget import tokens
from app.widget.service import Sending, WidgetForm, WidgetRefused
from app.widget.texts import TEXTS, choose_language

router = APIRouter(include_in_schema=False)

# The pages' own policy: that of every page, except who may frame them (app.web.rendering.SECURITY_HEADERS).
_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}"
)


def _headers(ancestors: str) -> dict[str, str]:
    # No X-Frame-Options: it cannot name the origins, and frame-ancestors takes precedence where both are set.
    return {"Content-Security-Policy": _POLICY.format(ancestors=ancestors), "X-Frame-Options": ""}


def _framed_by(key: ApiKey) -> dict[str, str]:
    return _headers(" ".join(key.origins or []) or "'none'")


def _own_origins(request: Request, settings: Settings) -> set[str]:
    own = {f"{request.url.scheme}://{request.url.netloc}".lower()}
    public = widget.origin_of(settings.public_url)
    return own | ({public} if public else set())


def _check_origin(request: Request, settings: Settings, key: ApiKey, *, header: str) -> str | None:
    origin = widget.origin_of(request.headers.get(header))
    if origin in _own_origins(request, settings):
        return None
    widget.check_origin(key, origin=origin, own_origin="")
    return origin


def _refusal(refused: WidgetRefused, lang: str) -> HTMLResponse:
    """A message without a form: it holds nothing to click, so any site may frame it (its owner sees why)."""
    texts = TEXTS[lang]
    minutes = math.ceil((refused.retry_after or 0) / 60)
    message = texts[refused.reason].format(minutes=max(minutes, 1))
    headers = _headers("*")
    if refused.retry_after is not None:
        headers["Retry-After"] = str(refused.retry_after)
    return render_bare(
        "widget/message.html",
        {"t": texts, "lang": lang, "message": message},
        status_code=refused.status,
        headers=headers,
    )


def signing_secret(request: Request) -> str:
    secret: str = request.app.state.signing_secret
    return secret


def _form_page(
    request: Request,
    key: ApiKey,
    *,
    presented: str,
    lang: str,
    form: WidgetForm | None = None,
    error: str | None = None,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "t": TEXTS[lang],
        "lang": lang,
        "key": presented,
        "token": tokens.issue(secret=signing_secret(request), key_prefix=key.prefix, now=time.time()),
        "form": form or WidgetForm(),
        "error": error,
        "problems": problems or [],
    }
    return render_bare("widget/form.html", context, status_code=status_code, headers=_framed_by(key))


@router.get("/widget", response_class=HTMLResponse)
def widget_page(
    request: Request,
    _visitor: VisitorDep,
    session: SessionDep,
    settings: SettingsDep,
    key: Annotated[str, Query(max_length=200)] = "",
    lang: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    language = choose_language(lang, request.headers.get("Accept-Language"))
    try:
        found = widget.publishable_key(session, presented=key)
        # The page that frames the widget names itself in the Referer (browsers send the origin at least).
        _check_origin(request, settings, found, header="Referer")
    except WidgetRefused as refused:
        return _refusal(refused, language)
    return _form_page(request, found, presented=key, lang=language)


def spend(request: Request, settings: Settings, key: ApiKey) -> None:
    limits: RateLimits = request.app.state.rate_limits
    widget.spend(limits, settings=settings, key=key, client=client_address(request))


def store(
    request: Request, session: Session, settings: Settings, key: ApiKey, sending: Sending
) -> WidgetRefused | None:
    matcher = request.app.state.matcher
    if matcher is None:
        return WidgetRefused("error_busy", status=503, retry_after=60)
    try:
        widget.submit(session, key=key, sending=sending, matcher=matcher, settings=settings)
    except NotReady:
        return WidgetRefused("error_busy", status=503, retry_after=60)
    return None


@router.post("/widget", response_class=HTMLResponse)
def send_need(
    request: Request,
    _visitor: VisitorDep,
    session: SessionDep,
    settings: SettingsDep,
    key: Annotated[str, Form(max_length=200)] = "",
    lang: Annotated[str, Form(max_length=8)] = "",
    token: Annotated[str, Form(max_length=200)] = "",
    website: Annotated[str, Form(max_length=2000)] = "",
    name: Annotated[str, Form(max_length=1000)] = "",
    email: Annotated[str, Form(max_length=1000)] = "",
    company: Annotated[str, Form(max_length=1000)] = "",
    need_title: Annotated[str, Form(max_length=1000)] = "",
    description: Annotated[str, Form(max_length=100_000)] = "",
) -> Response:
    language = choose_language(lang, request.headers.get("Accept-Language"))
    texts = TEXTS[language]
    form = WidgetForm(
        name=name.strip(),
        email=email.strip(),
        company=company.strip(),
        need_title=need_title.strip(),
        description=description.strip(),
    )
    try:
        found = widget.publishable_key(session, presented=key)
        origin = _check_origin(request, settings, found, header="Origin")
        spend(request, settings, found)
        # The honeypot: hidden from people (and from screen readers), filled in by robots that fill everything.
        if website:
            raise WidgetRefused("error_spam", status=400)
    except WidgetRefused as refused:
        return _refusal(refused, language)
    verdict = tokens.check(
        secret=signing_secret(request),
        token=token,
        key_prefix=found.prefix,
        now=time.time(),
        min_age=settings.widget_min_fill_seconds,
        max_age=settings.widget_max_fill_seconds,
    )
    if verdict is tokens.Verdict.invalid:
        return _refusal(WidgetRefused("error_spam", status=400), language)
    if verdict is not tokens.Verdict.ok:
        # A person who was quick or slow keeps their text, with a fresh token.
        message = texts["error_too_fast" if verdict is tokens.Verdict.too_fast else "error_expired"]
        return _form_page(request, found, presented=key, lang=language, form=form, error=message, status_code=400)
    problems = form.problems(max_text_chars=settings.max_text_chars)
    if problems:
        return _form_page(
            request,
            found,
            presented=key,
            lang=language,
            form=form,
            error=texts["error_fields"],
            problems=problems,
            status_code=422,
        )
    failed = store(request, session, settings, found, Sending(form=form, lang=language, origin=origin))
    if failed is not None:
        return _refusal(failed, language)
    # Post/redirect/get: reloading the confirmation sends nothing again.
    return RedirectResponse(request.url_for("widget_sent").include_query_params(key=key, lang=language), 303)


@router.get("/widget/sent", response_class=HTMLResponse)
def widget_sent(
    request: Request,
    _visitor: VisitorDep,
    session: SessionDep,
    settings: SettingsDep,
    key: Annotated[str, Query(max_length=200)] = "",
    lang: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    language = choose_language(lang, request.headers.get("Accept-Language"))
    try:
        found = widget.publishable_key(session, presented=key)
    except WidgetRefused as refused:
        return _refusal(refused, language)
    context = {"t": TEXTS[language], "lang": language, "key": key}
    return render_bare("widget/sent.html", context, headers=_framed_by(found))


@router.get("/review/widget", response_class=HTMLResponse)
def widget_needs_page(request: Request, curator: CuratorDep, session: SessionDep) -> Response:
    """Needs sent through the widget, newest first, with whom to contact."""
    rows = widget.submissions(session, tenant=curator.tenant)
    return render(request, "widget/submissions.html", {"submissions": rows})


@router.post("/review/widget/{submission_id}/status")
def mark_submission(
    submission_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    request: Request,
    _csrf: CsrfDep,
    curator: CuratorDep,
    session: SessionDep,
    status: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Marks a sending reviewed (the sender was contacted), or pending again."""
    if status not in SubmissionStatus.__members__:
        message = translate(request, "Mark a sending reviewed or pending.")
        return render(request, "error.html", {"message": message}, status_code=422)
    try:
        widget.mark(session, tenant=curator.tenant, submission_id=submission_id, status=SubmissionStatus(status))
    except AppError as exc:
        session.rollback()
        return render(request, "error.html", {"message": say_problem(request, exc)}, status_code=exc.status)
    if status == SubmissionStatus.reviewed:
        flash(request, "ok", translate(request, "Marked reviewed."))
    else:
        flash(request, "ok", translate(request, "Marked pending again."))
    return RedirectResponse("/review/widget", status_code=303)
