"""The facilitator's pages speak Danish to a facilitator who chose it (or whose browser asks for it): the home
page, the engagements board and an engagement's page, and the flash message of a move; names stay as they are."""

from __future__ import annotations

import html

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core.database import unit_of_work
from app.engagements import service as engagements
from app.engagements.schemas import EngagementFromMatch
from tests.app.people.conftest import Cast, csrf
from tests.app.sme.conftest import release


def _introduced(app: FastAPI, cast: Cast) -> tuple[int, int]:
    """A released match introduced by a facilitator: an engagement at introduced (its id and version)."""
    released = release(app, company_id=cast.company_id, provider_id=cast.provider_id)
    with unit_of_work(app.state.session_factory) as session:
        engagement = engagements.introduce_match(
            session,
            actor=engagements.staff(name="fay", tenant="default"),
            data=EngagementFromMatch(match_id=released.match_id),
        )
        return engagement.id, engagement.version


def _danish(client: TestClient) -> None:
    """The facilitator chooses Danish on the language switch (stored with the person)."""
    chosen = client.post(
        "/account/language",
        data={"csrf_token": csrf(client, "/facilitator"), "language": "da", "next": "/facilitator"},
        follow_redirects=False,
    )
    assert chosen.status_code == 303


def test_home_board_and_engagement_speak_danish(facilitator: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    engagement_id, _ = _introduced(loaded_app, cast)
    _danish(facilitator)
    home = html.unescape(facilitator.get("/facilitator").text)
    assert 'lang="da"' in home
    assert "Planlæg en demodag" in home and "Tavle over forløb" in home and "Virksomheder" in home
    assert "Plan a demo day" not in home

    board = html.unescape(facilitator.get("/facilitator/engagements").text)
    assert "Forløb" in board and "Introduceret" in board and "→ Mødt" in board
    assert "Afslut, noter, historik" in board and "siden " in board
    assert "End, notes, history" not in board

    page = html.unescape(facilitator.get(f"/facilitator/engagements/{engagement_id}").text)
    assert "Fase:" in page and "Uddannelsesplan" in page and "Historik" in page
    # The reasons of a decline and the history's words are Danish too; the form values stay codes.
    assert "Tilbuddet løser ikke behovet" in page and 'value="not_relevant"' in page
    assert "oprettet som introduceret" in page
    assert "Stage:" not in page and "Training plan" not in page


def test_a_move_is_confirmed_in_danish(facilitator: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    engagement_id, version = _introduced(loaded_app, cast)
    _danish(facilitator)
    here = f"/facilitator/engagements/{engagement_id}"
    moved = facilitator.post(
        f"{here}/moves", data={"csrf_token": csrf(facilitator, here), "stage": "met", "version": str(version)}
    )
    text = html.unescape(moved.text)
    assert moved.status_code == 200 and ": nu mødt." in text and "now met" not in text
    assert "flyttet introduceret → mødt" in text
    saved = facilitator.post(
        here, data={"csrf_token": csrf(facilitator, here), "version": str(version + 1), "notes": "Ring i maj"}
    )
    assert "Noter og næste handling er gemt." in html.unescape(saved.text)


def test_the_browser_language_is_enough(facilitator: TestClient) -> None:
    """Without a stored choice, the browser's Accept-Language decides; English stays English."""
    danish = html.unescape(facilitator.get("/facilitator/demo-days", headers={"Accept-Language": "da"}).text)
    assert "Planlæg en ny demodag" in danish and "Deltagende SMV'er" in danish and "(%(n)s" not in danish
    assert 'data-picked-text="({n} valgt)"' in danish
    english = facilitator.get("/facilitator/demo-days", headers={"Accept-Language": "en"}).text
    assert "Plan a new demo day" in english and 'data-picked-text="({n} picked)"' in english


def test_a_forms_problems_are_said_in_danish(facilitator: TestClient) -> None:
    _danish(facilitator)
    refused = facilitator.post(
        "/facilitator/demo-days",
        data={
            "csrf_token": csrf(facilitator, "/facilitator/demo-days"),
            "name": "",
            "rounds": "three",
            "max_per_company": "2",
            "provider": ["x"],
        },
    )
    text = html.unescape(refused.text)
    assert refused.status_code == 422
    assert "Giv demodagen et navn." in text and "Vælg mindst én SMV." in text and "Ukendt leverandør" in text
    # The field's name inside the sentence is Danish too, and what was typed is shown as typed.
    assert "Runder skal være et helt tal, ikke »three«." in text
    assert "must be a whole number" not in text


def test_a_missing_plan_is_said_in_danish(facilitator: TestClient) -> None:
    _danish(facilitator)
    missing = facilitator.get("/facilitator/demo-days/999999")
    assert missing.status_code == 404 and "ingen demodagsplan med id 999999" in html.unescape(missing.text)
