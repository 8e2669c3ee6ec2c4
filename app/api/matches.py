"""Route for ad-hoc matching of a text that is not stored."""

from __future__ import annotations

from fastapi import APIRouter

from app.auth import MatchesReadDep
from app.deps import MatcherDep, SessionDep, SettingsDep
from app.schemas import AdHocMatches, AdHocMatchRequest
from app.services import matches

router = APIRouter(tags=["matches"])


@router.post("/match")
def match_text(
    principal: MatchesReadDep,
    body: AdHocMatchRequest, session: SessionDep, settings: SettingsDep, matcher: MatcherDep
) -> AdHocMatches:
    return matches.ad_hoc_matches(
        session, matcher=matcher, request=body, settings=settings, tenant=principal.tenant
    )
