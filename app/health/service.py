"""Readiness as each caller may see it: ready or not for anyone; the model, the caller's own counts and
the start-up error for a caller with a valid key."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.core.auth import Principal
from app.core.errors import NotReady
from app.indexing.service import readiness, tenant_counts
from matching.matcher import Matcher


def probe(
    session: Session, *, matcher: Matcher | None, start_error: str | None, viewer: Principal | None, shared: bool
) -> dict[str, object]:
    """{"status": "ready"} (with a key: the model and the tenant's counts), or NotReady (503) with the reasons.

    Without a key nothing is counted: a probe learns whether to send traffic, not what any tenant holds.
    """
    report = readiness(session, matcher=matcher, start_error=start_error)
    if report.problems:
        problems = report.problems
        if viewer is not None and start_error:
            problems = [{"location": ["model"], "message": start_error}]
        raise NotReady("not ready: " + "; ".join(p["message"] for p in problems), errors=problems)
    if viewer is None:
        return {"status": "ready"}
    return {"status": "ready", "model": report.model, **tenant_counts(session, tenant=viewer.tenant, shared=shared)}
