"""Curator pages under /review: the queue, a match, a need, decisions (server-rendered; sign-in is app/people)."""

from __future__ import annotations

import math
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import QueryParams

from app.catalogue import service as catalogue
from app.catalogue.records import need_record, technology_record
from app.catalogue.repository import NeedRepository
from app.core.deps import SessionDep
from app.core.errors import AppError
from app.models import MatchStatus, Need, Person
from app.review import service as review
from app.review.repository import QueueFilters, QueueSort, ReviewRepository
from app.review.schemas import constraint_warnings
from app.web.highlight import highlight, term_stems
from app.web.i18n import N_
from app.web.rendering import flash, render, say_problem, translate, translate_plural
from app.web.security import CsrfDep, CuratorDep, curator_actor
from matching.retrieval import texts as matching_text

router = APIRouter(prefix="/review", include_in_schema=False)

PAGE_SIZES = (20, 50, 100)
# Query parameters that describe the queue view; carried to a match page and back, for "next".
VIEW_KEYS = ("status", "company_id", "provider_id", "category", "min_score", "max_score", "sort", "per_page")

# The reasons a curator may give for rejecting, as the pages show them (translated where shown).
REASON_LABELS: dict[review.ReasonCode, str] = {
    review.ReasonCode.not_relevant: N_("Not relevant to the need"),
    review.ReasonCode.wrong_category: N_("Wrong technology category"),
    review.ReasonCode.constraint_violation: N_("Breaks a constraint (budget, TRL, region, language)"),
    review.ReasonCode.duplicate: N_("Duplicate of another match"),
    review.ReasonCode.provider_unavailable: N_("Provider unavailable"),
    review.ReasonCode.other: N_("Other (explain)"),
}
assert set(REASON_LABELS) == set(review.ReasonCode)
UNKNOWN_CHOICE = N_("Unknown action or reason.")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        number = float(value) if value not in (None, "") else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _view(params: QueryParams | dict[str, str]) -> tuple[QueueFilters, QueueSort, dict[str, str]]:
    """Queue filters from query parameters; anything malformed is ignored rather than refused."""
    raw = params.get("status", MatchStatus.proposed)
    status = None if raw == "all" else (MatchStatus(raw) if raw in MatchStatus.__members__ else MatchStatus.proposed)
    sort_raw = params.get("sort", QueueSort.score_desc)
    sort = QueueSort(sort_raw) if sort_raw in QueueSort.__members__ else QueueSort.score_desc
    filters = QueueFilters(
        status=status,
        company_id=_int(params.get("company_id")),
        provider_id=_int(params.get("provider_id")),
        category=(params.get("category") or "").strip()[:100] or None,
        min_score=_float(params.get("min_score")),
        max_score=_float(params.get("max_score")),
    )
    kept = {key: str(params[key]) for key in VIEW_KEYS if params.get(key) not in (None, "")}
    return filters, sort, kept


def _query(view: dict[str, str], **extra: Any) -> str:
    merged = {**view, **{k: str(v) for k, v in extra.items() if v is not None}}
    return urlencode(merged)


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _problem(request: Request, curator: Person, exc: AppError) -> Response:
    """The error page, with the service's message in the page's language where the catalogue has it."""
    context = {"curator": curator, "message": say_problem(request, exc)}
    return render(request, "error.html", context, status_code=exc.status)


@router.get("", response_class=HTMLResponse)
def queue_page(request: Request, curator: CuratorDep, session: SessionDep) -> Response:
    filters, sort, view = _view(request.query_params)
    per_page = _int(request.query_params.get("per_page"))
    per_page = per_page if per_page in PAGE_SIZES else PAGE_SIZES[0]
    page = max(_int(request.query_params.get("page")) or 1, 1)
    tenant = curator.tenant
    try:
        rows, total = review.queue(
            session, tenant=tenant, filters=filters, sort=sort, limit=per_page, offset=(page - 1) * per_page
        )
    except AppError as exc:
        flash(request, "error", say_problem(request, exc))
        rows, total = [], 0
    repository = ReviewRepository(session)
    pages = max(math.ceil(total / per_page), 1)
    return render(
        request,
        "review/queue.html",
        {
            "curator": curator,
            "rows": rows,
            "needs": NeedRepository(session).by_ids({row.need_id for row in rows}),
            "total": total,
            "page": page,
            "pages": pages,
            "per_page": per_page,
            "page_sizes": PAGE_SIZES,
            "filters": filters,
            "sort": sort,
            "sorts": list(QueueSort),
            "view": view,
            "view_query": _query(view),
            "query": _query,
            "counts": repository.status_counts(tenant=tenant),
            "companies": repository.companies(tenant=tenant),
            "providers": repository.providers(tenant=tenant),
            "categories": repository.categories(tenant=tenant),
            "statuses": list(MatchStatus),
            "reasons": REASON_LABELS,
            "warnings": constraint_warnings,
        },
    )


@router.get("/matches/{match_id}", response_class=HTMLResponse)
def match_page(match_id: int, request: Request, curator: CuratorDep, session: SessionDep) -> Response:
    filters, sort, view = _view(request.query_params)
    try:
        match = review.get_match(session, tenant=curator.tenant, match_id=match_id)
    except AppError as exc:
        return _problem(request, curator, exc)
    need = session.get(Need, match.need_id)
    assert need is not None  # the match's foreign key keeps its need
    explanation = match.explanation or {}
    pairs = explanation.get("sentence_pairs") or []
    stems = term_stems(explanation.get("shared_terms") or [])
    need_text = matching_text.need_text(need_record(need))
    technology = match.technology
    # The text the engine embedded (with its category and sector lines), so every aligned sentence is found.
    technology_text = matching_text.technology_text(technology_record(technology))
    return render(
        request,
        "review/match.html",
        {
            "curator": curator,
            "match": match,
            "need": need,
            "technology": technology,
            "explanation": explanation,
            "need_html": highlight(need_text, sentences=[p["need_sentence"] for p in pairs], stems=stems),
            "technology_html": highlight(
                technology_text, sentences=[p["technology_sentence"] for p in pairs], stems=stems
            ),
            "history": ReviewRepository(session).history(match.id),
            "answers": review.feedback_of(session, [match.id]).get(match.id, {}),
            "neighbours": review.neighbours(
                session, tenant=curator.tenant, match_id=match.id, filters=filters, sort=sort
            ),
            "view": view,
            "view_query": _query(view),
            "reasons": REASON_LABELS,
        },
    )


@router.post("/matches/{match_id}/decision")
def decide(
    match_id: int,
    request: Request,
    _csrf: CsrfDep,
    curator: CuratorDep,
    session: SessionDep,
    action: Annotated[str, Form()],
    version: Annotated[int | None, Form()] = None,
    reason_code: Annotated[str | None, Form()] = None,
    reason_text: Annotated[str | None, Form(max_length=review.MAX_REASON_CHARS)] = None,
    summary: Annotated[str | None, Form(max_length=review.MAX_SUMMARY_CHARS)] = None,
    view: Annotated[str | None, Form()] = None,
) -> Response:
    filters, sort, kept = _view(QueryParams(view or ""))
    here = f"/review/matches/{match_id}?{_query(kept)}"
    try:
        request_ = review.DecisionRequest(
            action=review.Action(action),
            reason_code=review.ReasonCode(reason_code) if reason_code else None,
            reason_text=reason_text,
            summary=summary,
            expected_version=version,
        )
        # "Next" is taken before the decision moves this match out of a status-filtered queue.
        following = review.neighbours(session, tenant=curator.tenant, match_id=match_id, filters=filters, sort=sort)
        review.decide(session, actor=curator_actor(curator), match_id=match_id, request=request_)
    except ValueError:
        flash(request, "error", translate(request, UNKNOWN_CHOICE))
        return _redirect(here)
    except AppError as exc:
        session.rollback()
        flash(request, "error", say_problem(request, exc))
        return _redirect(here)
    done = translate(request, _DONE[request_.action])
    flash(request, "ok", translate(request, "Match %(id)s: %(done)s.") % {"id": match_id, "done": done})
    if request_.action is not review.Action.reopen and following.next_id is not None:
        return _redirect(f"/review/matches/{following.next_id}?{_query(kept)}")
    return _redirect(here)


_DONE = {
    review.Action.approve: N_("approved"),
    review.Action.approve_edited: N_("approved with the edited explanation"),
    review.Action.reject: N_("rejected"),
    review.Action.reopen: N_("reopened"),
}


@router.post("/bulk")
def bulk(
    request: Request,
    _csrf: CsrfDep,
    curator: CuratorDep,
    session: SessionDep,
    action: Annotated[str, Form()],
    match_ids: Annotated[list[int], Form(alias="match_id")] = [],  # noqa: B006 (FastAPI copies defaults)
    reason_code: Annotated[str | None, Form()] = None,
    reason_text: Annotated[str | None, Form(max_length=review.MAX_REASON_CHARS)] = None,
    view: Annotated[str | None, Form()] = None,
) -> Response:
    back = f"/review?{view or ''}"
    try:
        outcomes = review.decide_many(
            session,
            actor=curator_actor(curator),
            match_ids=match_ids,
            request=review.DecisionRequest(
                action=review.Action(action),
                reason_code=review.ReasonCode(reason_code) if reason_code else None,
                reason_text=reason_text,
            ),
        )
    except ValueError:
        flash(request, "error", translate(request, UNKNOWN_CHOICE))
        return _redirect(back)
    except AppError as exc:
        session.rollback()
        flash(request, "error", say_problem(request, exc))
        return _redirect(back)
    done = sum(o.done for o in outcomes)
    skipped = [o for o in outcomes if not o.done]
    if action == review.Action.approve:
        message = translate_plural(request, "%(count)s match approved.", "%(count)s matches approved.", done)
    else:
        message = translate_plural(request, "%(count)s match rejected.", "%(count)s matches rejected.", done)
    message %= {"count": done}
    if skipped:
        listed = "; ".join(f"{o.match_id} ({translate(request, o.detail)})" for o in skipped[:10])
        message += " " + translate(request, "Skipped: %(matches)s") % {"matches": listed}
    flash(request, "ok" if not skipped else "info", message)
    return _redirect(back)


@router.get("/needs/{need_id}", response_class=HTMLResponse)
def need_page(need_id: int, request: Request, curator: CuratorDep, session: SessionDep) -> Response:
    try:
        need = catalogue.get_need(session, need_id=need_id, tenant=curator.tenant)
    except AppError as exc:
        return _problem(request, curator, exc)
    return render(
        request,
        "review/need.html",
        {"curator": curator, "need": need, "matches": ReviewRepository(session).need_matches(need.id)},
    )


@router.get("/decisions", response_class=HTMLResponse)
def decisions_page(request: Request, curator: CuratorDep, session: SessionDep) -> Response:
    return render(
        request,
        "review/decisions.html",
        {
            "curator": curator,
            "decisions": review.recent_decisions(session, tenant=curator.tenant, limit=200)[0],
            "reasons": REASON_LABELS,
        },
    )
