"""SME and provider members report their own steps from their pages: forward only, a reason when it ends,
a stale version refused, their own engagements only, every step in the history under their name."""

from __future__ import annotations

import html
import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.core.database import unit_of_work
from app.engagements.pages import STEP_NEEDS_REASON, STEP_REFUSED, STEP_SAVED
from app.models import Engagement, EngagementEvent, EngagementStage
from tests.app.people.conftest import Cast, csrf, sign_in
from tests.app.sme.conftest import release


def _introduced(web: TestClient, app: FastAPI, cast: Cast) -> int:
    """The SME asks for an introduction to a released suggestion: an engagement at introduced."""
    released = release(app, company_id=cast.company_id, provider_id=cast.provider_id)
    sign_in(web, "sam")
    path = f"/sme/needs/{released.need_id}/matches/{released.match_id}/introduction"
    assert web.post(path, data={"csrf_token": csrf(web, "/sme")}).status_code == 200  # followed to the need page
    with unit_of_work(app.state.session_factory) as session:
        return session.scalars(select(Engagement.id).where(Engagement.match_id == released.match_id)).one()


def _state(app: FastAPI, engagement_id: int) -> tuple[EngagementStage, int]:
    with unit_of_work(app.state.session_factory) as session:
        engagement = session.get(Engagement, engagement_id)
        assert engagement is not None
        return engagement.stage, engagement.version


def _report(web: TestClient, page: str, engagement_id: int, **fields: object):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf(web, page), **fields}
    return web.post(f"/engagements/{engagement_id}/steps", data=data, follow_redirects=False)


def _offered(page: str, engagement_id: int) -> list[str]:
    """The steps the page offers for the engagement."""
    found = re.search(rf'<select name="stage" id="step-{engagement_id}">(.*?)</select>', page, re.S)
    return re.findall(r'<option value="(\w+)"', found.group(1)) if found else []


def _flash(web: TestClient, page: str) -> str:
    return html.unescape(web.get(page).text)


def test_the_sme_and_the_provider_report_steps_forward(web: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    engagement_id = _introduced(web, loaded_app, cast)
    home = web.get("/sme").text
    assert f'id="engagement-{engagement_id}"' in home
    assert _offered(home, engagement_id) == ["met", "demonstrated", "pilot", "adopted", "declined"]

    answer = _report(web, "/sme", engagement_id, stage="met", version=_state(loaded_app, engagement_id)[1])
    assert answer.status_code == 303 and answer.headers["location"] == "/sme"
    assert STEP_SAVED in _flash(web, "/sme")
    assert _state(loaded_app, engagement_id)[0] is EngagementStage.met
    # Only steps forward are offered now.
    assert _offered(web.get("/sme").text, engagement_id) == ["demonstrated", "pilot", "adopted", "declined"]

    web.post("/logout", data={"csrf_token": csrf(web, "/account")})
    sign_in(web, "pia")
    leads = web.get("/provider/leads").text
    assert f'id="engagement-{engagement_id}"' in leads
    version = _state(loaded_app, engagement_id)[1]
    answer = _report(web, "/provider/leads", engagement_id, stage="demonstrated", version=version)
    assert answer.status_code == 303 and answer.headers["location"] == "/provider/leads"
    assert _state(loaded_app, engagement_id)[0] is EngagementStage.demonstrated

    # A page opened before that change sends the old version: refused, said plainly, nothing changes.
    stale = _report(web, "/provider/leads", engagement_id, stage="pilot", version=version)
    assert stale.status_code == 303 and STEP_REFUSED in _flash(web, "/provider/leads")
    assert _state(loaded_app, engagement_id)[0] is EngagementStage.demonstrated
    # A step back is not a member's to make, even with the right version.
    current = _state(loaded_app, engagement_id)[1]
    assert _report(web, "/provider/leads", engagement_id, stage="met", version=current).status_code == 303
    assert _state(loaded_app, engagement_id)[0] is EngagementStage.demonstrated

    with unit_of_work(loaded_app.state.session_factory) as session:
        events = session.scalars(
            select(EngagementEvent).where(EngagementEvent.engagement_id == engagement_id).order_by(EngagementEvent.id)
        ).all()
        steps = [(e.actor_kind, e.actor, e.to_stage) for e in events if e.to_stage is not None]
    assert steps[-2:] == [("sme", "sam", "met"), ("provider", "pia", "demonstrated")]


def test_ending_needs_a_reason_and_then_no_more_steps(web: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    engagement_id = _introduced(web, loaded_app, cast)
    version = _state(loaded_app, engagement_id)[1]
    assert _report(web, "/sme", engagement_id, stage="declined", version=version).status_code == 303
    assert STEP_NEEDS_REASON in _flash(web, "/sme")
    other = _report(web, "/sme", engagement_id, stage="declined", version=version, reason_code="other")
    assert other.status_code == 303
    assert _state(loaded_app, engagement_id)[0] is EngagementStage.introduced  # "other" needs a note
    ended = _report(web, "/sme", engagement_id, stage="declined", version=version, reason_code="too_expensive")
    assert ended.status_code == 303 and _state(loaded_app, engagement_id)[0] is EngagementStage.declined
    home = web.get("/sme").text
    assert _offered(home, engagement_id) == [] and "A facilitator can reopen it." in home
    with unit_of_work(loaded_app.state.session_factory) as session:
        engagement = session.get(Engagement, engagement_id)
        assert engagement is not None and engagement.end_reason == "too_expensive"


def test_members_touch_only_their_own_engagements(web: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    engagement_id = _introduced(web, loaded_app, cast)
    with unit_of_work(loaded_app.state.session_factory) as session:
        engagement = session.get(Engagement, engagement_id)
        assert engagement is not None
        engagement.company_id = cast.other_company_id  # now another company's
    version = _state(loaded_app, engagement_id)[1]
    refused = _report(web, "/sme", engagement_id, stage="met", version=version)
    assert refused.status_code == 404
    assert f'id="engagement-{engagement_id}"' not in web.get("/sme").text
    assert _state(loaded_app, engagement_id)[0] is EngagementStage.introduced
    # Staff move engagements on the board, not here; nonsense is refused without a change.
    web.post("/logout", data={"csrf_token": csrf(web, "/account")})
    sign_in(web, "fay")
    assert _report(web, "/facilitator", engagement_id, stage="met", version=version).status_code == 403
    web.post("/logout", data={"csrf_token": csrf(web, "/account")})
    sign_in(web, "sam")
    assert _report(web, "/sme", engagement_id, stage="nonsense", version=version).status_code in (303, 404)
    assert _state(loaded_app, engagement_id)[0] is EngagementStage.introduced


def test_the_steps_speak_danish(web: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    engagement_id = _introduced(web, loaded_app, cast)
    web.post("/account/language", data={"csrf_token": csrf(web, "/sme"), "language": "da", "next": "/sme"})
    home = html.unescape(web.get("/sme").text)
    assert "Introduktioner og hvad der kom ud af dem" in home and "Vi har mødtes" in home
    assert "Introduceret" in home and f'id="engagement-{engagement_id}"' in home
