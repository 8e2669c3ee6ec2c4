"""The provider member's pages over HTTP: the leads released to it, with explanations written to the
provider, and its answers (seen by the SME and the curators); editing an offering with a preview that
saves nothing; scoping to the member's own provider; clear errors."""

from __future__ import annotations

import html

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.core.database import unit_of_work
from app.models import MatchFeedback, Technology
from tests.app.people.conftest import Cast, csrf, sign_in
from tests.app.sme.conftest import release


def _post(web: TestClient, path: str, data: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    return web.post(path, data={"csrf_token": csrf(web, "/provider"), **(data or {})}, follow_redirects=False)


def test_released_leads_are_written_to_the_provider_and_answered(
    web: TestClient, loaded_app: FastAPI, cast: Cast
) -> None:
    lead = release(loaded_app, company_id=cast.company_id, provider_id=cast.provider_id, title="Cracked welds")
    others = release(loaded_app, company_id=cast.company_id, provider_id=cast.other_provider_id, title="Not yours")
    sign_in(web, "pia")
    page = html.unescape(web.get("/provider/leads").text)
    assert "Cracked welds" in page and "Not yours" not in page
    # The explanation speaks to the provider about the SME, never of "your need".
    assert 'needs "Cracked welds"' in page and "your need" not in page.lower().split("leads released to you")[1]
    assert _post(web, f"/provider/leads/{lead.match_id}/answer", {"verdict": "interested"}).status_code == 303
    assert "You answered: interested." in web.get("/provider/leads").text
    with unit_of_work(loaded_app.state.session_factory) as session:
        answer = session.scalars(select(MatchFeedback)).one()
        assert (answer.party, answer.verdict, answer.actor) == ("provider", "interested", "pia")
    # Another provider's lead, or an unknown answer, changes nothing.
    assert _post(web, f"/provider/leads/{others.match_id}/answer", {"verdict": "interested"}).status_code == 404
    assert _post(web, f"/provider/leads/{lead.match_id}/answer", {"verdict": "maybe"}).status_code == 422
    # The SME reads the answer on its need's page, the curator on the match's review page.
    sign_in(web, "sam")
    assert "The provider is interested." in web.get(f"/sme/needs/{lead.need_id}").text
    sign_in(web, "cora")
    review = web.get(f"/review/matches/{lead.match_id}").text
    assert 'id="provider-answer">interested' in review


def test_a_lead_the_sme_found_not_relevant_is_not_shown(web: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    lead = release(loaded_app, company_id=cast.company_id, provider_id=cast.provider_id, title="Painted floors")
    sign_in(web, "sam")
    path = f"/sme/needs/{lead.need_id}/matches/{lead.match_id}/not-relevant"
    assert web.post(path, data={"csrf_token": csrf(web, "/sme")}, follow_redirects=False).status_code == 303
    sign_in(web, "pia")
    assert "Painted floors" not in web.get("/provider/leads").text
    assert _post(web, f"/provider/leads/{lead.match_id}/answer", {"verdict": "interested"}).status_code == 404


def _offering(app: FastAPI, provider_id: int) -> tuple[int, str]:
    with unit_of_work(app.state.session_factory) as session:
        technology = session.scalars(
            select(Technology).where(Technology.provider_id == provider_id).order_by(Technology.id)
        ).first()
        assert technology is not None
        return technology.id, technology.title


def test_a_preview_saves_nothing_and_a_save_saves(web: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    technology_id, title = _offering(loaded_app, cast.provider_id)
    sign_in(web, "pia")
    assert title in web.get(f"/provider/offerings/{technology_id}").text
    text = "Robot welding cells that find cracks in welds with vision inspection."
    preview = _post(
        web, f"/provider/offerings/{technology_id}", {"title": "Weld vision", "description": text, "action": "preview"}
    )
    assert preview.status_code == 200 and 'id="preview-results"' in preview.text
    with unit_of_work(loaded_app.state.session_factory) as session:
        assert session.get(Technology, technology_id).title == title  # type: ignore[union-attr]
    saved = _post(
        web, f"/provider/offerings/{technology_id}", {"title": "Weld vision", "description": text, "trl": "7"}
    )
    assert saved.status_code == 303
    with unit_of_work(loaded_app.state.session_factory) as session:
        technology = session.get(Technology, technology_id)
        assert technology is not None and (technology.title, technology.trl) == ("Weld vision", 7)


def test_bad_offering_input_gives_the_form_again(web: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    technology_id, _ = _offering(loaded_app, cast.provider_id)
    sign_in(web, "pia")
    for data, words in (
        ({"title": "X", "trl": "ten"}, "trl"),
        ({"title": "X", "trl": "12"}, "trl"),
        ({"title": "X", "price_min": "900", "price_max": "100"}, "price_min_eur"),
        ({"title": "  "}, "title"),
    ):
        answer = _post(web, f"/provider/offerings/{technology_id}", data)
        assert answer.status_code == 422 and 'id="form-error"' in answer.text and words in answer.text, data


def test_another_providers_offering_is_refused(web: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    technology_id, title = _offering(loaded_app, cast.other_provider_id)
    sign_in(web, "pia")
    refused = web.get(f"/provider/offerings/{technology_id}")
    assert refused.status_code == 403 and title not in refused.text
    for action in ("save", "preview"):
        answer = _post(web, f"/provider/offerings/{technology_id}", {"title": "Hijacked", "action": action})
        assert answer.status_code == 403
    assert web.get("/provider/offerings/999999").status_code == 404
    with unit_of_work(loaded_app.state.session_factory) as session:
        assert session.get(Technology, technology_id).title == title  # type: ignore[union-attr]
    # An SME member is not a provider: the role refuses before any scoping.
    sign_in(web, "sam")
    assert web.get("/provider/leads").status_code == 403
