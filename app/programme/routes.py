"""The programme's picture and funders' report for facilitators (scope programme); the dashboard pages come later."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.core.auth import ProgrammeDep
from app.core.deps import MatcherDep, SessionDep
from app.core.work import BlockingWorkDep
from app.programme import exports
from app.programme import service as programme
from app.programme.plots import PLOTS, plot_png
from app.programme.schemas import ProgrammePicture, ProgrammeReport

router = APIRouter(prefix="/programme", tags=["programme"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Start = Annotated[date | None, Query(alias="from", description="first day (UTC); default: the beginning")]
End = Annotated[date | None, Query(alias="to", description="last day (UTC), included; default: today")]


@router.get("/dashboard")
def dashboard(
    principal: ProgrammeDep, session: SessionDep, matcher: MatcherDep, start: Start = None, end: End = None
) -> ProgrammePicture:
    """What the dashboard plots: needs by category and sector, the funnel from proposed to adopted, SMEs not yet
    served, time from need to first demonstration, the share of Danish needs, providers' load against capacity."""
    return programme.picture(session, tenant=principal.tenant, matcher=matcher, start=start, end=end)


@router.get("/plots/{name}.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
def plot(
    principal: ProgrammeDep,
    _turn: BlockingWorkDep,
    name: Annotated[str, Path(pattern=f"^({'|'.join(PLOTS)})$", description=", ".join(PLOTS))],
    session: SessionDep,
    matcher: MatcherDep,
    start: Start = None,
    end: End = None,
) -> Response:
    """One of the dashboard's pictures as PNG, for the period."""
    picture = programme.picture(session, tenant=principal.tenant, matcher=matcher, start=start, end=end)
    return Response(plot_png(name, picture), media_type="image/png")


@router.get("/report")
def report(principal: ProgrammeDep, session: SessionDep, start: Start = None, end: End = None) -> ProgrammeReport:
    """The programme's results for the period, for its funders: the data of the printable page."""
    return programme.report(session, tenant=principal.tenant, start=start, end=end)


@router.get("/report.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}})
def report_xlsx(
    principal: ProgrammeDep, _turn: BlockingWorkDep, session: SessionDep, start: Start = None, end: End = None
) -> Response:
    """The funders' report as a workbook: summary with meanings, funnel, engagements, competence plans."""
    result = programme.report(session, tenant=principal.tenant, start=start, end=end)
    period = f"{start.isoformat() if start else 'start'}_{end.isoformat() if end else 'now'}"
    return Response(
        exports.report_xlsx(result),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="programme-report-{period}.xlsx"'},
    )
