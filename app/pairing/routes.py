"""Routes for demo-day pairing plans: create, read, revise by hand, history and exports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import HTMLResponse

from app.core.auth import PairingDep
from app.core.deps import MatcherDep, PageDep, SessionDep, SettingsDep
from app.core.schemas import Page
from app.core.work import BlockingWorkDep
from app.jobs import service as jobs
from app.jobs.deps import ACCEPTED, PreferAsyncDep, accepted
from app.pairing import exports
from app.pairing import service as pairing
from app.pairing.schemas import (
    PairingComparison,
    PairingHistory,
    PairingPlanCreate,
    PairingPlanRead,
    PairingPlanSummary,
    PairingRevisionCreate,
    PairingRevisionDetail,
)

router = APIRouter(prefix="/pairing-plans", tags=["pairing"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("")
def list_plans(principal: PairingDep, session: SessionDep, page: PageDep) -> Page[PairingPlanSummary]:
    rows, total = pairing.list_plans(session, limit=page.limit, offset=page.offset, tenant=principal.tenant)
    return Page[PairingPlanSummary](
        items=[pairing.plan_summary(row) for row in rows], total=total, limit=page.limit, offset=page.offset
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PairingPlanRead, responses=ACCEPTED)
def create_plan(
    principal: PairingDep,
    _turn: BlockingWorkDep,
    body: PairingPlanCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    matcher: MatcherDep,
    respond_async: PreferAsyncDep,
) -> PairingPlanRead | Response:
    """Score the companies against the providers, optimise the day and store it as revision 1.

    Solving takes up to 30 s. With `Prefer: respond-async` the plan is queued as a job instead (202, the
    job in the body, its URL in Location; any serving process solves it); the ids are checked first, so
    an unknown one is still a 422 here."""
    if respond_async:
        pairing.check_plan(session, data=body, settings=settings, tenant=principal.tenant)
        job = jobs.enqueue(
            session,
            kind=jobs.PLAN,
            tenant=principal.tenant,
            payload=body.model_dump(mode="json"),
            created_by=principal.name,
        )
        return accepted(job)
    plan = pairing.create_plan(session, matcher=matcher, data=body, settings=settings, tenant=principal.tenant)
    response.headers["Location"] = request.app.url_path_for("get_plan", plan_id=plan.id)
    return pairing.plan_read(session, plan)


@router.get("/{plan_id}")
def get_plan(principal: PairingDep, plan_id: int, session: SessionDep) -> PairingPlanRead:
    return pairing.plan_read(session, pairing.get_plan(session, plan_id=plan_id, tenant=principal.tenant))


@router.post("/{plan_id}/revisions", status_code=status.HTTP_201_CREATED)
def revise_plan(
    principal: PairingDep, _turn: BlockingWorkDep, plan_id: int, body: PairingRevisionCreate, session: SessionDep
) -> PairingPlanRead:
    """Lock pairs (they stay) and remove pairs (never again), re-optimise the rest; returns the new plan."""
    plan = pairing.revise_plan(session, plan_id=plan_id, data=body, tenant=principal.tenant)
    return pairing.plan_read(session, plan)


@router.get("/{plan_id}/revisions")
def plan_history(principal: PairingDep, plan_id: int, session: SessionDep) -> PairingHistory:
    """Every revision, oldest first: what changed, who, when, and the totals."""
    return pairing.history(pairing.get_plan(session, plan_id=plan_id, tenant=principal.tenant))


@router.get("/{plan_id}/revisions/compare")
def compare_revisions(
    principal: PairingDep,
    plan_id: int,
    session: SessionDep,
    from_revision: Annotated[int | None, Query(alias="from", ge=1, description="default: the one before `to`")] = None,
    to_revision: Annotated[int | None, Query(alias="to", ge=1, description="default: the current revision")] = None,
) -> PairingComparison:
    """What changed between two revisions: pairs added, removed and moved, and the totals before and after."""
    plan = pairing.get_plan(session, plan_id=plan_id, tenant=principal.tenant)
    return pairing.compare(session, plan, from_number=from_revision, to_number=to_revision)


@router.get("/{plan_id}/revisions/{number}")
def get_revision(principal: PairingDep, plan_id: int, number: int, session: SessionDep) -> PairingRevisionDetail:
    """One revision as it was, with its pairs, rounds and tables."""
    plan = pairing.get_plan(session, plan_id=plan_id, tenant=principal.tenant)
    return pairing.revision_detail(session, plan, number=number)


@router.get("/{plan_id}/export.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def export_csv(principal: PairingDep, plan_id: int, session: SessionDep) -> Response:
    """One row per demo (round, table, provider, SME, score, locked, offering, need)."""
    plan = pairing.get_plan(session, plan_id=plan_id, tenant=principal.tenant)
    return Response(
        exports.export_csv(session, plan),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="pairing-plan-{plan.id}.csv"'},
    )


@router.get("/{plan_id}/export.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}})
def export_xlsx(principal: PairingDep, _turn: BlockingWorkDep, plan_id: int, session: SessionDep) -> Response:
    """The demos as a workbook, as the CSV, with a second sheet of the totals and what each means."""
    plan = pairing.get_plan(session, plan_id=plan_id, tenant=principal.tenant)
    return Response(
        exports.export_xlsx(session, plan),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="pairing-plan-{plan.id}.xlsx"'},
    )


@router.get("/{plan_id}/export.html", response_class=HTMLResponse)
def export_html(principal: PairingDep, plan_id: int, session: SessionDep) -> HTMLResponse:
    """A printable page: per provider its SMEs and rounds, per SME its providers and rounds; its links are relative."""
    plan = pairing.get_plan(session, plan_id=plan_id, tenant=principal.tenant)
    return HTMLResponse(exports.export_html(session, plan))


@router.get("/{plan_id}/heatmap.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
def heatmap(principal: PairingDep, _turn: BlockingWorkDep, plan_id: int, session: SessionDep) -> Response:
    """The scores as a heat map, SMEs x providers, with the chosen pairs marked."""
    plan = pairing.get_plan(session, plan_id=plan_id, tenant=principal.tenant)
    return Response(exports.heatmap(session, plan), media_type="image/png")
