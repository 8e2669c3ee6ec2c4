"""Operator routes for learning from curator decisions: learn now, read the ranking model in use."""

from __future__ import annotations

from fastapi import APIRouter

from app.core.auth import AdminDep
from app.core.deps import MatcherDep, SessionDep, SettingsDep
from app.core.work import BlockingWorkDep
from app.learning import service as learning
from app.learning.schemas import RankingModelRead

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post(
    "/learn",
    status_code=201,
    responses={409: {"description": "no curator decisions or engagement outcomes to learn from yet"}},
)
def learn(
    principal: AdminDep, _turn: BlockingWorkDep, session: SessionDep, settings: SettingsDep, matcher: MatcherDep
) -> RankingModelRead:
    """Learn a ranking from every approved and rejected match, calibrate it, store it and rank with it from now on."""
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
