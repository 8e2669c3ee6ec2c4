"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.core.deps import SessionDep
from app.core.errors import NotReady
from app.indexing.service import readiness

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive (answered on the event loop: it needs no worker thread, so busy ones cannot delay it)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "not ready", "content": {"application/problem+json": {}}}})
def readyz(request: Request, session: SessionDep) -> dict[str, object]:
    """200 once model and index are loaded and the index holds what the database holds."""
    report = readiness(session, matcher=request.app.state.matcher, start_error=request.app.state.start_error)
    if report.problems:
        raise NotReady(
            "not ready: " + "; ".join(p["message"] for p in report.problems),
            errors=report.problems,
        )
    return {"status": "ready", **report.counts}
