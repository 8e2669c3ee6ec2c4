"""The widget for a website's own script: a token, then the need as JSON, by fetch with CORS for the key's origins.

The iframe (app.widget.pages) needs none of this; these serve a cluster that builds its own form. They sit
beside the pages, outside /api/v1: a publishable key is refused there, and these take nothing else.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from app.core.deps import SessionDep, SettingsDep
from app.core.problems import problem_response
from app.models import ApiKey
from app.web.security import VisitorDep
from app.widget import service as widget
from app.widget import tokens
from app.widget.pages import signing_secret, spend, store
from app.widget.service import Sending, WidgetForm, WidgetRefused
from app.widget.texts import LANGUAGES, TEXTS

router = APIRouter(prefix="/widget", include_in_schema=False)

PREFLIGHT_MAX_AGE_S = 600
KeyParam = Annotated[str, Query(max_length=200)]


class WidgetNeedIn(BaseModel):
    """What a website's own form sends; `website` is its honeypot, `token` what GET /widget/token gave."""

    name: str = Field("", max_length=1000)
    email: str = Field("", max_length=1000)
    company: str = Field("", max_length=1000)
    need_title: str = Field("", max_length=1000)
    description: str = Field("", max_length=100_000)
    lang: str = Field("en", max_length=8)
    token: str = Field("", max_length=200)
    website: str = Field("", max_length=2000)


def _cors(request: Request, key: ApiKey) -> dict[str, str]:
    """The CORS answer for the request's Origin when it is one of the key's; refused (403) otherwise."""
    sent = request.headers.get("Origin", "")
    if widget.origin_of(sent) not in (key.origins or []):
        raise WidgetRefused("error_origin", status=403)
    return {"Access-Control-Allow-Origin": sent, "Vary": "Origin"}


def _problem(request: Request, refused: WidgetRefused, headers: dict[str, str] | None = None) -> JSONResponse:
    message = TEXTS["en"][refused.reason].format(minutes=max(1, -(-(refused.retry_after or 0) // 60)))
    extra = dict(headers or {})
    if refused.retry_after is not None:
        extra["Retry-After"] = str(refused.retry_after)
    return problem_response(status=refused.status, detail=message, instance=request.url.path, headers=extra)


@router.options("/needs")
def preflight(request: Request, _visitor: VisitorDep, session: SessionDep, key: KeyParam = "") -> Response:
    """CORS preflight: allowed for the key's origins only, for POST with a JSON body."""
    try:
        cors = _cors(request, widget.publishable_key(session, presented=key))
    except WidgetRefused as refused:
        return _problem(request, refused)
    cors |= {
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_S),
    }
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=cors)


@router.get("/token")
def form_token(
    request: Request, _visitor: VisitorDep, session: SessionDep, settings: SettingsDep, key: KeyParam = ""
) -> Response:
    """A signed timestamp for a form shown now: send it with the need, no sooner than min_fill_seconds."""
    try:
        found = widget.publishable_key(session, presented=key)
        cors = _cors(request, found)
    except WidgetRefused as refused:
        return _problem(request, refused)
    token = tokens.issue(secret=signing_secret(request), key_prefix=found.prefix, now=time.time())
    body = {
        "token": token,
        "min_fill_seconds": settings.widget_min_fill_seconds,
        "max_fill_seconds": settings.widget_max_fill_seconds,
    }
    return JSONResponse(body, headers=cors | {"Cache-Control": "no-store"})


_VERDICTS = {
    tokens.Verdict.invalid: "error_spam",
    tokens.Verdict.too_fast: "error_too_fast",
    tokens.Verdict.expired: "error_expired",
}


@router.post("/needs", status_code=status.HTTP_201_CREATED)
def send_need(
    request: Request,
    body: WidgetNeedIn,
    _visitor: VisitorDep,
    session: SessionDep,
    settings: SettingsDep,
    key: KeyParam = "",
) -> Response:
    """A need from a website's own form: 201 with what happens next, or a problem+json saying why not."""
    cors: dict[str, str] = {}
    try:
        found = widget.publishable_key(session, presented=key)
        cors = _cors(request, found)
        spend(request, settings, found)
        if body.website:
            raise WidgetRefused("error_spam", status=400)
        verdict = tokens.check(
            secret=signing_secret(request),
            token=body.token,
            key_prefix=found.prefix,
            now=time.time(),
            min_age=settings.widget_min_fill_seconds,
            max_age=settings.widget_max_fill_seconds,
        )
        if verdict is not tokens.Verdict.ok:
            raise WidgetRefused(_VERDICTS[verdict], status=400)
    except WidgetRefused as refused:
        return _problem(request, refused, cors)
    language = body.lang if body.lang in LANGUAGES else "en"
    texts = TEXTS[language]
    form = WidgetForm(
        name=body.name.strip(),
        email=body.email.strip(),
        company=body.company.strip(),
        need_title=body.need_title.strip(),
        description=body.description.strip(),
    )
    problems = form.problems(max_text_chars=settings.max_text_chars)
    if problems:
        errors = [
            {"location": ["body", name], "message": TEXTS["en"][f"invalid_{name}"], "type": "value_error"}
            for name in problems
        ]
        return problem_response(
            status=422, detail=TEXTS["en"]["error_fields"], instance=request.url.path, errors=errors, headers=cors
        )
    origin = widget.origin_of(request.headers.get("Origin"))
    failed = store(request, session, settings, found, Sending(form=form, lang=language, origin=origin))
    if failed is not None:
        return _problem(request, failed, cors)
    answer = {"status": "pending", "title": texts["sent_title"], "next": [texts[f"next_{n}"] for n in (1, 2, 3)]}
    return JSONResponse(answer, status_code=status.HTTP_201_CREATED, headers=cors)
