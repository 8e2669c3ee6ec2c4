"""The facilitator's pages under /facilitator: home, demo days (plan, revise, compare, print, export), the
engagements board and the programme's dashboard and report. Thin: the services are the API's."""

from __future__ import annotations

import base64
import hashlib
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from app.core.deps import MatcherDep, SessionDep, SettingsDep
from app.core.errors import AppError
from app.core.work import BlockingWorkDep
from app.engagements import service as engagements
from app.engagements.repository import EngagementFilters, EngagementScope
from app.engagements.schemas import (
    DECLINE_LABELS,
    STAGE_WORDS,
    AdoptReason,
    DeclineReason,
    EngagementUpdate,
    PlanEngagementsCreate,
    TrainingStatus,
)
from app.facilitator import forms, runs
from app.models import EngagementStage, PairingPlan, Person
from app.pairing import exports
from app.pairing import service as pairing
from app.pairing.schemas import PairingAssignmentRead, PairingPlanRead, PairingTotals
from app.people import service as people
from app.programme import exports as programme_exports
from app.programme import service as programme
from app.programme.plots import PLOTS, plot_png
from app.web.i18n import N_
from app.web.rendering import SECURITY_HEADERS, flash, language_of, render, say_problem, translate, words_of
from app.web.security import CsrfDep, FacilitatorDep, PageError
from matching.pairing.optimiser import FAIRNESS_MODES
from matching.ranking.bands import strength

router = APIRouter(prefix="/facilitator", include_in_schema=False)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PlanId = Annotated[int, Path(ge=1, le=2**31 - 1)]
EngagementId = Annotated[int, Path(ge=1, le=2**31 - 1)]
PlotName = Annotated[str, Path(pattern=f"^({'|'.join(PLOTS)})$")]

# The labels below are English message ids (N_): the templates show them translated, {{ _(label) }}.
FAIRNESS_CHOICES = {
    "none": N_("Most useful demonstrations in total"),
    "coverage": N_("Every SME a demo first, then the most useful demonstrations"),
    "maximin": N_("Every SME a demo, and the worst-off SME's best demo as good as possible"),
}
assert set(FAIRNESS_CHOICES) == set(FAIRNESS_MODES)
STAGE_LABELS = {
    EngagementStage.introduced: N_("Introduced"),
    EngagementStage.met: N_("Met"),
    EngagementStage.demonstrated: N_("Demonstrated"),
    EngagementStage.pilot: N_("Pilot"),
    EngagementStage.adopted: N_("Adopted"),
    EngagementStage.declined: N_("Declined"),
}
TRAINING_LABELS = {
    TrainingStatus.needed: N_("Needed"),
    TrainingStatus.planned: N_("Planned"),
    TrainingStatus.done: N_("Done"),
}
ADOPT_LABELS = {AdoptReason.solved: N_("Solved the need"), AdoptReason.partly_solved: N_("Partly solved the need")}
TOTAL_LABELS = {
    "total_score": N_("Useful demonstrations expected (sum of scores)"),
    "pairs": N_("Demonstrations"),
    "covered_companies": N_("SMEs with a demo"),
    "worst_best_score": N_("Worst-off SME's best demo score"),
    "rounds": N_("Rounds"),
    "unscheduled": N_("Chosen pairs that did not fit the rounds"),
}
# Codes the pages show as words (a stage in the history, the report and the funnel: STAGE_WORDS; an ended
# engagement's reason; who changed it; which fields): in English each is its code with spaces.
assert {stage.value for stage in EngagementStage} <= set(STAGE_WORDS)
REASON_WORDS = {
    DeclineReason.not_relevant.value: N_("not relevant"),
    DeclineReason.technology_not_ready.value: N_("technology not ready"),
    DeclineReason.too_expensive.value: N_("too expensive"),
    DeclineReason.competence_gap.value: N_("competence gap"),
    DeclineReason.no_capacity.value: N_("no capacity"),
    DeclineReason.chose_other.value: N_("chose other"),
    DeclineReason.provider_unavailable.value: N_("provider unavailable"),
    DeclineReason.other.value: N_("other"),
    AdoptReason.solved.value: N_("solved"),
    AdoptReason.partly_solved.value: N_("partly solved"),
}
assert set(REASON_WORDS) == {code.value for code in (*DeclineReason, *AdoptReason)}
ACTOR_WORDS = {"facilitator": N_("facilitator"), "sme": N_("SME"), "provider": N_("provider")}
FIELD_WORDS = {"notes": N_("notes"), "next_action_on": N_("next action"), "training": N_("training")}
FIT_WORDS = {"strong": N_("strong"), "good": N_("good"), "possible": N_("possible"), "weak": N_("weak")}
PLOT_CAPTIONS = {
    "funnel": N_("Funnel"),
    "needs-by-category": N_("Needs by category"),
    "needs-by-sector": N_("Needs by sector"),
    "time-to-demo": N_("Time to demo"),
    "provider-load": N_("Provider load"),
}
assert set(PLOT_CAPTIONS) == set(PLOTS)
WORDS = {"stage_words": STAGE_WORDS, "reasons": REASON_WORDS, "actors": ACTOR_WORDS, "fields": FIELD_WORDS}
# The printable plan carries its own small stylesheet; the page's policy admits exactly that one.
_PRINT_STYLE = "'sha256-" + base64.b64encode(hashlib.sha256(exports.PRINT_CSS.encode()).digest()).decode() + "'"
PRINT_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": SECURITY_HEADERS["Content-Security-Policy"].replace(
        "style-src 'self'", f"style-src {_PRINT_STYLE}"
    ),
}


async def form_data(request: Request) -> FormData:
    """The posted form (Starlette keeps it, so the CSRF check and the page read it once)."""
    return await request.form()


FormDep = Annotated[FormData, Depends(form_data)]


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _problem(request: Request, exc: AppError) -> HTMLResponse:
    return render(request, "error.html", {"message": say_problem(request, exc)}, status_code=exc.status)


def _said(request: Request, exc: forms.FormProblem) -> list[str]:
    """A form's problems in the page's language."""
    return [problem.say(words_of(request)) for problem in exc.problems]


def _error(request: Request, message: str, status: int) -> HTMLResponse:
    """The error page saying `message` (an English message id) in the page's language."""
    return render(request, "error.html", {"message": translate(request, message)}, status_code=status)


def facilitator_plan(plan_id: PlanId, person: FacilitatorDep, session: SessionDep) -> PairingPlan:
    """The demo-day plan the address names, if it is the facilitator's tenant's (else the 404 page)."""
    try:
        return pairing.get_plan(session, plan_id=plan_id, tenant=person.tenant)
    except AppError as exc:
        raise PageError(exc.said or exc.detail, status=exc.status) from exc


PlanDep = Annotated[PairingPlan, Depends(facilitator_plan)]


def _fields(form: FormData) -> dict[str, str]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _strings(form: FormData, key: str) -> list[str]:
    return [value for value in form.getlist(key) if isinstance(value, str)]


@router.get("", response_class=HTMLResponse)
def home(request: Request, person: FacilitatorDep, session: SessionDep) -> Response:
    return render(
        request,
        "facilitator/home.html",
        {
            "companies": people.companies_of(session, tenant=person.tenant),
            "providers": people.providers_of(session, tenant=person.tenant),
            "plans": pairing.list_plans(session, limit=10, offset=0, tenant=person.tenant)[0][::-1],
        },
    )


# -- demo days -------------------------------------------------------------------------------------


def _new_plan_page(
    request: Request, person: Person, session: SessionDep, *, form: dict[str, Any], problems: list[str], status: int
) -> HTMLResponse:
    plans, _ = pairing.list_plans(session, limit=200, offset=0, tenant=person.tenant)
    return render(
        request,
        "facilitator/demo_days.html",
        {
            "plans": plans[::-1],
            "summaries": {plan.id: pairing.plan_summary(plan) for plan in plans},
            "companies": people.companies_of(session, tenant=person.tenant),
            "providers": people.providers_of(session, tenant=person.tenant),
            "fairness": FAIRNESS_CHOICES,
            "form": form,
            "problems": problems,
        },
        status_code=status,
    )


@router.get("/demo-days", response_class=HTMLResponse)
def demo_days(request: Request, person: FacilitatorDep, session: SessionDep) -> Response:
    return _new_plan_page(request, person, session, form={}, problems=[], status=200)


@router.post("/demo-days")
def start_demo_day(
    request: Request,
    _csrf: CsrfDep,
    person: FacilitatorDep,
    session: SessionDep,
    settings: SettingsDep,
    matcher: MatcherDep,
    form: FormDep,
) -> Response:
    """Reads the form, then queues the optimiser as a job; the browser goes to the run's progress page."""
    fields = _fields(form)
    companies, providers = _strings(form, "company"), _strings(form, "provider")
    provider_names = {p.id: p.name for p in people.providers_of(session, tenant=person.tenant)}
    try:
        data = forms.plan_request(
            fields=fields,
            company_values=companies,
            provider_values=providers,
            author=person.username,
            provider_names=provider_names,
        )
    except forms.FormProblem as exc:
        kept = {**fields, "company": set(companies), "provider": set(providers)}
        return _new_plan_page(request, person, session, form=kept, problems=_said(request, exc), status=422)
    run_id = runs.start_plan(session, data=data, tenant=person.tenant, author=person.username)
    return _redirect(f"/facilitator/demo-days/runs/{run_id}")


@router.get("/demo-days/runs/{run_id}", response_class=HTMLResponse)
def run_page(run_id: int, request: Request, person: FacilitatorDep, session: SessionDep) -> Response:
    run = runs.get_run(session, run_id=run_id, tenant=person.tenant, say=words_of(request))
    if run is None:
        return _error(request, N_("No such optimiser run."), 404)
    if run.state == "done":
        done = translate(request, "%(label)s: done in %(seconds)s s.")
        flash(request, "ok", done % {"label": run.label, "seconds": f"{run.seconds:.1f}"})
        return _redirect(f"/facilitator/demo-days/{run.plan_id}")
    return render(request, "facilitator/run.html", {"run": run}, status_code=200 if run.state == "running" else 422)


@router.get("/demo-days/runs/{run_id}/status")
def run_status(run_id: int, request: Request, person: FacilitatorDep, session: SessionDep) -> dict[str, Any]:
    """What the progress page polls: the run's state and progress, the plan when done, the error if it failed."""
    run = runs.get_run(session, run_id=run_id, tenant=person.tenant, say=words_of(request))
    if run is None:
        return {"state": "unknown"}
    return {
        "state": run.state,
        "progress": run.progress,
        "message": run.message,
        "seconds": run.seconds,
        "time_limit": run.time_limit,
        "plan_url": f"/facilitator/demo-days/{run.plan_id}" if run.plan_id else None,
        "error": run.error,
    }


def _grid(plan: PairingPlanRead, provider_names: dict[int, str]) -> dict[str, Any]:
    """The current revision as rows of provider tables (every table of every provider, by name) and
    columns of rounds; a provider without a demo still has its row, all free."""
    cells: dict[tuple[int, int], dict[int, PairingAssignmentRead]] = defaultdict(dict)
    for a in plan.assignments:
        if a.round is not None and a.table is not None:
            cells[(a.provider_id, a.table)][a.round] = a
    providers = sorted(plan.provider_ids, key=lambda p: provider_names[p].lower())
    rows = [
        {"provider": provider_names[p], "provider_id": p, "table": t, "cells": cells.get((p, t), {})}
        for p in providers
        for t in range(1, plan.tables.get(p, 1) + 1)
    ]
    return {"rows": rows, "rounds": list(range(1, plan.totals.rounds + 1))}


def _summary(request: Request, plan: PairingPlan) -> Callable[[PairingTotals], str]:
    """A revision's totals in the page's words (the API's `summary` is English)."""
    say = words_of(request)
    return partial(pairing.totals_summary, fairness=plan.fairness, companies=len(plan.company_ids), say=say)


@router.get("/demo-days/{plan_id}", response_class=HTMLResponse)
def plan_page(stored: PlanDep, request: Request, session: SessionDep) -> Response:
    plan = pairing.plan_read(session, stored)
    found = pairing.names(session, stored)
    return render(
        request,
        "facilitator/plan.html",
        {
            "plan": plan,
            "grid": _grid(plan, {p: found.provider(p)[1] for p in plan.provider_ids}),
            "history": pairing.history(stored).items[::-1],
            "fit": lambda score: strength(score, threshold=stored.min_score),
            "fit_words": FIT_WORDS,
            "fairness": FAIRNESS_CHOICES[plan.fairness],
            "summary": _summary(request, stored),
            "day": exports.day_words(plan.event_date, language_of(request)) if plan.event_date else "",
            "unassigned": sorted(found.company(c)[1] for c in plan.unassigned_company_ids),
            "unscheduled": [
                (found.company(p.company_id)[1], found.provider(p.provider_id)[1]) for p in plan.unscheduled
            ],
            "must": {(p.company_id, p.provider_id) for p in plan.must_pairs},
        },
    )


@router.post("/demo-days/{plan_id}/revisions")
def revise(
    plan: PlanDep,
    request: Request,
    _csrf: CsrfDep,
    person: FacilitatorDep,
    session: SessionDep,
    form: FormDep,
) -> Response:
    """Locks and removes the ticked pairs and queues re-optimising the rest into a new revision."""
    try:
        data = forms.revision_request(
            lock=_strings(form, "lock"),
            remove=_strings(form, "remove"),
            note=_fields(form).get("note"),
            author=person.username,
        )
    except forms.FormProblem as exc:
        flash(request, "error", " ".join(_said(request, exc)))
        return _redirect(f"/facilitator/demo-days/{plan.id}")
    run_id = runs.start_revision(session, plan=plan, data=data, tenant=person.tenant, author=person.username)
    return _redirect(f"/facilitator/demo-days/runs/{run_id}")


@router.post("/demo-days/{plan_id}/engagements")
def plan_engagements(
    plan: PlanDep, request: Request, _csrf: CsrfDep, person: FacilitatorDep, session: SessionDep, form: FormDep
) -> Response:
    """One engagement per pair of the current revision: introduced before the day, demonstrated after it."""
    stage = form.get("stage")
    try:
        data = PlanEngagementsCreate(stage="demonstrated" if stage == "demonstrated" else "introduced")
        result = engagements.from_plan(session, actor=_actor(person), plan=plan, data=data)
    except AppError as exc:
        session.rollback()
        return _problem(request, exc)
    recorded = translate(request, "%(created)s engagements recorded as %(stage)s; %(existing)s pairs already had one.")
    stage_word = translate(request, STAGE_WORDS[data.stage])
    flash(
        request,
        "ok",
        recorded % {"created": len(result.created), "stage": stage_word, "existing": len(result.existing)},
    )
    return _redirect("/facilitator/engagements")


@router.get("/demo-days/{plan_id}/compare", response_class=HTMLResponse)
def compare_page(
    plan: PlanDep,
    request: Request,
    session: SessionDep,
    from_revision: Annotated[str | None, Query(alias="from")] = None,
    to_revision: Annotated[str | None, Query(alias="to")] = None,
) -> Response:
    try:
        numbers = [int(v) if v else None for v in (from_revision, to_revision)]
        comparison = pairing.compare(session, plan, from_number=numbers[0], to_number=numbers[1])
    except ValueError:
        return _error(request, N_("Revisions are numbered 1, 2, 3 …"), 422)
    except AppError as exc:
        return _problem(request, exc)
    found = pairing.names(session, plan)
    return render(
        request,
        "facilitator/compare.html",
        {
            "plan": plan,
            "comparison": comparison,
            "labels": TOTAL_LABELS,
            "summary": _summary(request, plan),
            "company": lambda c: found.company(c)[1],
            "provider": lambda p: found.provider(p)[1],
            "revisions": [r.number for r in plan.revisions],
        },
    )


@router.get("/demo-days/{plan_id}/export.html", response_class=HTMLResponse)
def print_page(plan: PlanDep, request: Request, session: SessionDep) -> Response:
    """The printable plan: per provider its SMEs by round, then per SME its providers by round."""
    return HTMLResponse(exports.export_html(session, plan, language=language_of(request)), headers=PRINT_HEADERS)


@router.get("/demo-days/{plan_id}/export.csv")
def plan_csv(plan: PlanDep, session: SessionDep) -> Response:
    return Response(
        exports.export_csv(session, plan),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="pairing-plan-{plan.id}.csv"'},
    )


@router.get("/demo-days/{plan_id}/export.xlsx")
def plan_xlsx(plan: PlanDep, _turn: BlockingWorkDep, session: SessionDep) -> Response:
    return Response(
        exports.export_xlsx(session, plan),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="pairing-plan-{plan.id}.xlsx"'},
    )


@router.get("/demo-days/{plan_id}/heatmap.png")
def plan_heatmap(plan: PlanDep, request: Request, _turn: BlockingWorkDep, session: SessionDep) -> Response:
    return Response(exports.heatmap(session, plan, language_of(request)), media_type="image/png")


# -- engagements -----------------------------------------------------------------------------------


def _actor(person: Person) -> engagements.Actor:
    return engagements.staff(name=person.username, tenant=person.tenant)


@router.get("/engagements", response_class=HTMLResponse)
def board_page(request: Request, person: FacilitatorDep, session: SessionDep) -> Response:
    board = engagements.board(
        session, scope=EngagementScope(tenant=person.tenant), filters=EngagementFilters(), per_column=100
    )
    return render(
        request,
        "facilitator/board.html",
        {"board": board, "stages": STAGE_LABELS, "forward": _forward(), **WORDS},
    )


def _forward() -> dict[EngagementStage, EngagementStage]:
    """The next step of each open stage: the board's one-click move."""
    steps = list(engagements.FUNNEL)
    return {stage: steps[i + 1] for i, stage in enumerate(steps[:-1])}


@router.get("/engagements/{engagement_id}", response_class=HTMLResponse)
def engagement_page(
    engagement_id: EngagementId, request: Request, person: FacilitatorDep, session: SessionDep
) -> Response:
    try:
        detail = engagements.detail(session, scope=EngagementScope(tenant=person.tenant), engagement_id=engagement_id)
    except AppError as exc:
        return _problem(request, exc)
    planned = {item.competence for item in detail.training}
    return render(
        request,
        "facilitator/engagement.html",
        {
            "engagement": detail,
            "stages": STAGE_LABELS,
            "declines": DECLINE_LABELS,
            "adoptions": ADOPT_LABELS,
            "training_statuses": TRAINING_LABELS,
            **WORDS,
            # The competences the SME lacks and the plan does not hold yet, offered as rows to fill in.
            "suggested_training": [c for c in detail.competence_gap if c not in planned],
        },
    )


@router.post("/engagements/{engagement_id}/moves")
def move_engagement(
    engagement_id: EngagementId,
    request: Request,
    _csrf: CsrfDep,
    person: FacilitatorDep,
    session: SessionDep,
    form: FormDep,
) -> Response:
    back = "/facilitator/engagements" if form.get("back") == "board" else f"/facilitator/engagements/{engagement_id}"

    def change() -> str:
        moved = engagements.move(
            session, actor=_actor(person), engagement_id=engagement_id, data=forms.move_request(_fields(form))
        )
        shown = engagements.read(session, moved)
        now = translate(request, "%(company)s and %(provider)s: now %(stage)s.")
        stage = translate(request, STAGE_LABELS[shown.stage]).lower()
        return now % {"company": shown.company_name, "provider": shown.provider_name, "stage": stage}

    return _change_engagement(request, session, back, change)


def _change_engagement(request: Request, session: SessionDep, back: str, change: Callable[[], str]) -> Response:
    """Runs a change of an engagement from its form, then goes `back` saying what it did (or why not)."""
    try:
        done = change()
    except forms.FormProblem as exc:
        flash(request, "error", " ".join(_said(request, exc)))
        return _redirect(back)
    except AppError as exc:
        session.rollback()
        if exc.status == 404:
            return _problem(request, exc)
        flash(request, "error", say_problem(request, exc))
        return _redirect(back)
    flash(request, "ok", done)
    return _redirect(back)


def _save_update(
    request: Request,
    session: SessionDep,
    person: Person,
    engagement_id: int,
    build: Callable[[], EngagementUpdate],
    done: str,
) -> Response:
    """Saves an update of the engagement built from its form, then back to its page saying so (or why not)."""

    def change() -> str:
        engagements.update(session, actor=_actor(person), engagement_id=engagement_id, data=build())
        return done

    return _change_engagement(request, session, f"/facilitator/engagements/{engagement_id}", change)


@router.post("/engagements/{engagement_id}")
def update_engagement(
    engagement_id: EngagementId,
    request: Request,
    _csrf: CsrfDep,
    person: FacilitatorDep,
    session: SessionDep,
    form: FormDep,
) -> Response:
    build = partial(forms.update_request, _fields(form))
    done = translate(request, "Notes and next action saved.")
    return _save_update(request, session, person, engagement_id, build, done)


@router.post("/engagements/{engagement_id}/training")
def update_training(
    engagement_id: EngagementId,
    request: Request,
    _csrf: CsrfDep,
    person: FacilitatorDep,
    session: SessionDep,
    form: FormDep,
) -> Response:
    """The competence plan: one row per competence the SME's people must learn, where its training stands."""
    build = partial(
        forms.training_request,
        _fields(form),
        competences=_strings(form, "competence"),
        statuses=_strings(form, "status"),
        days=_strings(form, "planned_on"),
        notes=_strings(form, "training_note"),
    )
    return _save_update(request, session, person, engagement_id, build, translate(request, "Training plan saved."))


# -- the programme ---------------------------------------------------------------------------------


# The period of the dashboard and the report, as the API's programme routes take it.
Start = Annotated[date | None, Query(alias="from")]
End = Annotated[date | None, Query(alias="to")]
PERIOD_BACKWARDS = N_("The period ends before it starts: choose a last day on or after the first.")


def _period_query(start: date | None, end: date | None) -> str:
    return urlencode({k: v.isoformat() for k, v in (("from", start), ("to", end)) if v is not None})


@router.get("/programme", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    person: FacilitatorDep,
    session: SessionDep,
    matcher: MatcherDep,
    start: Start = None,
    end: End = None,
) -> Response:
    """The programme's picture for a period (`from`, `to`: the form at its top; all of it without them)."""
    if start is not None and end is not None and end < start:
        return _error(request, PERIOD_BACKWARDS, 422)
    picture = programme.picture(session, tenant=person.tenant, matcher=matcher, start=start, end=end)
    context = {
        "picture": picture,
        "plots": PLOTS,
        "captions": PLOT_CAPTIONS,
        "stage_words": STAGE_WORDS,
        "period_query": _period_query(start, end),
    }
    return render(request, "facilitator/dashboard.html", context)


@router.get("/programme/plots/{name}.png")
def dashboard_plot(
    name: PlotName,
    request: Request,
    person: FacilitatorDep,
    _turn: BlockingWorkDep,
    session: SessionDep,
    matcher: MatcherDep,
    start: Start = None,
    end: End = None,
) -> Response:
    picture = programme.picture(session, tenant=person.tenant, matcher=matcher, start=start, end=end)
    return Response(plot_png(name, picture, language=language_of(request)), media_type="image/png")


@router.get("/programme/report", response_class=HTMLResponse)
def report_page(
    request: Request, person: FacilitatorDep, session: SessionDep, start: Start = None, end: End = None
) -> Response:
    """The funders' report for a period (`from`, `to`: the form at its top), printable."""
    if start is not None and end is not None and end < start:
        return _error(request, PERIOD_BACKWARDS, 422)
    report = programme.report(session, tenant=person.tenant, start=start, end=end)
    period = _period_query(start, end)
    return render(request, "facilitator/report.html", {"report": report, "period_query": period, **WORDS})


@router.get("/programme/report.xlsx")
def report_xlsx(
    person: FacilitatorDep, _turn: BlockingWorkDep, session: SessionDep, start: Start = None, end: End = None
) -> Response:
    report = programme.report(session, tenant=person.tenant, start=start, end=end)
    period = f"{start.isoformat() if start else 'start'}_{end.isoformat() if end else 'now'}"
    return Response(
        programme_exports.report_xlsx(report),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="programme-report-{period}.xlsx"'},
    )
