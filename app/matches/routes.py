"""Routes of matches: a need's stored matches, ad-hoc matches of a text, and a technology's leads."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.core.auth import MatchesReadDep, NeedsWriteDep
from app.core.deps import KDep, MatcherDep, SessionDep, SettingsDep
from app.matches import service as matches
from app.matches.schemas import AdHocMatches, AdHocMatchRequest, NeedMatches, TechnologyLeads

router = APIRouter()


@router.post("/match", response_model=AdHocMatches, tags=["matches"])
def match_text(
    principal: MatchesReadDep, body: AdHocMatchRequest, session: SessionDep, settings: SettingsDep, matcher: MatcherDep
) -> Response:
    result = matches.ad_hoc_matches(session, matcher=matcher, request=body, settings=settings, tenant=principal.tenant)
    # Serialised once, by the model that built it: returning the model made FastAPI validate it
    # again and then serialise it (about 1.6 ms of a request's Python at k=10 with explanations).
    return Response(content=result.model_dump_json(), media_type="application/json")


@router.get("/technologies/{technology_id}/leads", tags=["technologies"])
def technology_leads(
    principal: MatchesReadDep,
    technology_id: int,
    session: SessionDep,
    settings: SettingsDep,
    matcher: MatcherDep,
    k: KDep,
) -> TechnologyLeads:
    return matches.technology_leads(
        session,
        matcher=matcher,
        technology_id=technology_id,
        k=k,
        tenant=principal.tenant,
        shared=settings.share_catalogue,
        threshold=settings.match_threshold,
    )


@router.post("/needs/{need_id}/matches", tags=["needs"])
def compute_matches(
    principal: NeedsWriteDep, need_id: int, session: SessionDep, settings: SettingsDep, matcher: MatcherDep, k: KDep
) -> NeedMatches:
    """Compute and store the need's matches (proposed, for curator review)."""
    return matches.compute_matches(
        session,
        matcher=matcher,
        need_id=need_id,
        k=k,
        tenant=principal.tenant,
        shared=settings.share_catalogue,
        threshold=settings.match_threshold,
    )


@router.get("/needs/{need_id}/matches", tags=["needs"])
def read_matches(principal: MatchesReadDep, need_id: int, session: SessionDep, settings: SettingsDep) -> NeedMatches:
    """Approved matches; proposed ones too, marked, where the show_unreviewed setting is on."""
    return matches.read_matches(
        session,
        need_id=need_id,
        show_unreviewed=settings.show_unreviewed,
        tenant=principal.tenant,
        threshold=settings.match_threshold,
    )
