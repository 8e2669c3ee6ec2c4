"""Operator routes for learning from curator decisions: learn now, read the ranking model in use."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.core.auth import AdminDep
from app.core.deps import MatcherDep, SessionDep, SettingsDep
from app.core.work import BlockingWorkDep
from app.jobs import service as jobs
from app.jobs.deps import ACCEPTED, PreferAsyncDep, accepted
from app.learning import service as learning
from app.learning.schemas import RankingModelRead

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post(
    "/learn",
    status_code=201,
    response_model=RankingModelRead,
    responses={409: {"description": "no curator decisions or engagement outcomes to learn from yet"}, **ACCEPTED},
)
def learn(
    principal: AdminDep,
    _turn: BlockingWorkDep,
    session: SessionDep,
    settings: SettingsDep,
    matcher: MatcherDep,
    respond_async: PreferAsyncDep,
) -> RankingModelRead | Response:
    """Learn a ranking from every approved and rejected match, calibrate it, store it and rank with it from now on
    (every serving process, through the change log). With `Prefer: respond-async` it is queued as a job (202)."""
    if respond_async:
        return accepted(
            jobs.enqueue(session, kind=jobs.LEARN, tenant=principal.tenant, payload={}, created_by=principal.name)
        )
    row = learning.learn(
        session,
        matcher=matcher,
        trained_by=principal.name,
        trained_by_tenant=principal.tenant,
        labels_dir=settings.labels_dir,
    )
    return learning.model_as_seen_by(session, row, tenant=principal.tenant, shared=settings.share_catalogue)


@router.get("/ranking-model", responses={404: {"description": "nothing learned yet: the default ranking"}})
def ranking_model(principal: AdminDep, session: SessionDep, settings: SettingsDep) -> RankingModelRead:
    """The learned ranking model in use (one for the whole service), without what it names of other tenants."""
    row = learning.latest_model(session)
    return learning.model_as_seen_by(session, row, tenant=principal.tenant, shared=settings.share_catalogue)
