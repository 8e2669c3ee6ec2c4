"""Readiness as each caller may see it: ready or not for anyone; the model, the caller's own counts, the
lag behind the database and the start-up error for a caller with a valid key."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.core.auth import Principal
from app.core.errors import NotReady
from app.indexing.service import readiness, tenant_counts
from app.indexing.state import CatalogueStateRepository
from app.replication.service import Follower, Lag
from matching.matcher import Matcher


def probe(
    session: Session,
    *,
    matcher: Matcher | None,
    start_error: str | None,
    viewer: Principal | None,
    shared: bool,
    follower: Follower | None = None,
    max_lag_seconds: float = 30.0,
) -> dict[str, object]:
    """{"status": "ready"} (with a key: the model, the tenant's counts and the lag), or NotReady (503) with
    the reasons.

    Without a key nothing is counted: a probe learns whether to send traffic, not what any tenant holds.
    A process a few changes behind the database is ready (it applies them within milliseconds); one that
    has been behind for longer than `max_lag_seconds` is not. The index's counts are compared with the
    database's only while the process is caught up and applies nothing.
    """
    lag = Lag(0, 0.0)
    if follower is None or matcher is None:
        report = readiness(session, matcher=matcher, start_error=start_error)
        problems = report.problems
    else:
        before = CatalogueStateRepository(session).version()
        with follower.quiet() as quiet:
            report = readiness(session, matcher=matcher, start_error=start_error)
            steady = quiet.held and follower.applied == before == CatalogueStateRepository(session).version()
        lag = follower.lag(before)
        # Counts read while changes land would disagree for a moment; the lag speaks for those.
        problems = report.problems if steady else [p for p in report.problems if p["location"][0] != "index"]
        if lag.seconds > max_lag_seconds:
            problems = [
                *problems,
                {
                    "location": ["index", "lag"],
                    "message": f"this process has been behind the database's changes for over {max_lag_seconds:g} s",
                },
            ]
    if problems:
        if viewer is not None and start_error:
            problems = [{"location": ["model"], "message": start_error}]
        raise NotReady("not ready: " + "; ".join(p["message"] for p in problems), errors=problems)
    if viewer is None:
        return {"status": "ready"}
    return {
        "status": "ready",
        "model": report.model,
        **tenant_counts(session, tenant=viewer.tenant, shared=shared),
        "lag": {"versions": lag.versions, "seconds": lag.seconds},
    }
