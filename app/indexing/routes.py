"""Operator routes: rebuild the matching index from stored embeddings while serving."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from app.core.auth import AdminDep
from app.core.deps import MatcherDep, SettingsDep
from app.core.work import BlockingWorkDep
from app.indexing.service import IndexRebuilder, tenant_counts_of

router = APIRouter(prefix="/admin", tags=["admin"])


class IndexRebuildRead(BaseModel):
    technologies: int = Field(description="technologies your tenant can see, now in the index")
    needs: int = Field(description="your tenant's needs, now in the index")
    catalogue_version: int
    rounds: int
    saved: bool
    seconds: float


@router.post(
    "/index/rebuild",
    responses={409: {"description": "a rebuild is already running"}},
)
def rebuild_index(
    principal: AdminDep, _turn: BlockingWorkDep, request: Request, settings: SettingsDep, matcher: MatcherDep
) -> IndexRebuildRead:
    """Rebuild the index from the stored embeddings and swap it in; queries keep answering meanwhile."""
    rebuilder: IndexRebuilder = request.app.state.index_rebuilder
    follower = request.app.state.follower
    if follower is not None:
        # Through the change log's follower, so the version its index reflects stays true.
        result = rebuilder.run(follower.rebuild)
    else:
        result = rebuilder.rebuild(
            request.app.state.session_factory,
            matcher=matcher,
            index_dir=settings.index_dir,
            batch_size=settings.encode_batch_size,
        )
    # The index holds every tenant's rows; the answer counts only the caller's.
    counts = tenant_counts_of(
        request.app.state.session_factory, tenant=principal.tenant, shared=settings.share_catalogue
    )
    return IndexRebuildRead(
        technologies=counts["technologies"],
        needs=counts["needs"],
        catalogue_version=result.catalogue_version,
        rounds=result.rounds,
        saved=result.saved,
        seconds=round(result.seconds, 4),
    )
