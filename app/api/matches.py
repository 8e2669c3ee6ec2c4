"""Route for ad-hoc matching of a text that is not stored."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.auth import MatchesReadDep
from app.deps import MatcherDep, SessionDep, SettingsDep
from app.schemas import AdHocMatches, AdHocMatchRequest
from app.services import matches

router = APIRouter(tags=["matches"])


@router.post("/match", response_model=AdHocMatches)
def match_text(
    principal: MatchesReadDep, body: AdHocMatchRequest, session: SessionDep, settings: SettingsDep, matcher: MatcherDep
) -> Response:
    result = matches.ad_hoc_matches(session, matcher=matcher, request=body, settings=settings, tenant=principal.tenant)
    # Serialised once, by the model that built it: returning the model made FastAPI validate it
    # again and then serialise it (about 1.6 ms of a request's Python at k=10 with explanations).
    return Response(content=result.model_dump_json(), media_type="application/json")
