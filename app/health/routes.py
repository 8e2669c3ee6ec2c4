"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.core.auth import OptionalPrincipalDep
from app.core.deps import SessionDep, SettingsDep
from app.health import service as health

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive (answered on the event loop: it needs no worker thread, so busy ones cannot delay it)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "not ready", "content": {"application/problem+json": {}}}})
def readyz(
    request: Request, session: SessionDep, settings: SettingsDep, viewer: OptionalPrincipalDep
) -> dict[str, object]:
    """200 once model and index are loaded and the index holds what the database holds (or is behind it by
    changes it is applying, for no longer than TECHMATCH_FOLLOW_MAX_LAG_SECONDS).

    Anyone may ask; only a caller with a valid key is told the model, its tenant's counts, this process's
    lag behind the database and why start-up failed."""
    return health.probe(
        session,
        matcher=request.app.state.matcher,
        start_error=request.app.state.start_error,
        viewer=viewer,
        shared=settings.share_catalogue,
        follower=request.app.state.follower,
        max_lag_seconds=settings.follow_max_lag_seconds,
    )
