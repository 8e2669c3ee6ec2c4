"""The SME member's pages over HTTP: describing a need, released suggestions and the answers to them,
the honest nothing-fits page, scoping to the member's own company, clear errors, the company's data."""

from __future__ import annotations

import json

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.core.database import unit_of_work
from app.learning.service import decisions_and_weights
from app.matches.service import NOTHING_FITS
from app.models import Company, Engagement, EngagementStage, MatchFeedback, Need, Person
from tests.app.people.conftest import Cast, csrf, sign_in
from tests.app.sme.conftest import release


def _post(web: TestClient, path: str, data: dict[str, object] | None = None, *, page: str = "/sme"):  # type: ignore[no-untyped-def]
    return web.post(path, data={"csrf_token": csrf(web, page), **(data or {})}, follow_redirects=False)


def test_an_sme_member_describes_a_need_in_danish(web: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    sign_in(web, "sam")
    form = {
        "title": "Revner i svejsesømme",
        "description": "Vores robotsvejsning giver revner i sømmene på tynde plader.",
        "lang": "da",
        "budget": "50 000",
        "min_trl": "6",
        "region": "DK-82",
        "languages": ["da", "en"],
    }
    answer = _post(web, "/sme/needs", form)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sme/needs/")
    with unit_of_work(loaded_app.state.session_factory) as session:
        need = session.scalars(select(Need).where(Need.title == "Revner i svejsesømme")).one()
        assert (need.company_id, need.lang, need.budget_eur_max, need.min_trl) == (cast.company_id, "da", 50000, 6)
        assert need.languages == ["da", "en"]
    page = web.get(answer.headers["location"]).text
    assert "Revner i svejsesømme" in page
    # Nothing is released before a curator approves: the SME reads that it is in review or that nothing fits.
    assert 'id="in-review"' in page or 'id="nothing-fits"' in page
    assert "Revner i svejsesømme" in web.get("/sme").text


def test_a_need_without_suggestions_gets_the_engines_honest_answer_in_its_language(
    web: TestClient, loaded_app: FastAPI, cast: Cast
) -> None:
    with unit_of_work(loaded_app.state.session_factory) as session:
        need = Need(tenant="default", company_id=cast.company_id, title="Kantine", description="", lang="da")
        session.add(need)
        session.flush()
        need_id = need.id
    sign_in(web, "sam")
    page = web.get(f"/sme/needs/{need_id}").text
    assert NOTHING_FITS["da"].split(".")[0] in page.replace("&#39;", "'")


def test_a_released_suggestion_and_asking_for_an_introduction(web: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    released = release(loaded_app, company_id=cast.company_id, provider_id=cast.provider_id)
    sign_in(web, "sam")
    page = web.get(f"/sme/needs/{released.need_id}").text
    assert released.technology_title in page and "Stærkt match: de skrev om svejsning." in page
    assert "Good fit" in page and "55 in 100" in page
    answer = _post(web, f"/sme/needs/{released.need_id}/matches/{released.match_id}/introduction")
    assert answer.status_code == 303
    with unit_of_work(loaded_app.state.session_factory) as session:
        engagement = session.scalars(select(Engagement).where(Engagement.match_id == released.match_id)).one()
        assert engagement.stage is EngagementStage.introduced and engagement.company_id == cast.company_id
        feedback = session.scalars(select(MatchFeedback)).one()
        assert (feedback.party, feedback.verdict, feedback.actor) == ("sme", "introduction", "sam")
    assert "You asked for an introduction." in web.get(f"/sme/needs/{released.need_id}").text
    # Asking twice is refused plainly, not a second engagement.
    again = _post(web, f"/sme/needs/{released.need_id}/matches/{released.match_id}/introduction")
    assert again.status_code == 303 and "already engaged" in web.get(f"/sme/needs/{released.need_id}").text


def test_not_relevant_is_feedback_the_learning_reads(web: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    released = release(loaded_app, company_id=cast.company_id, provider_id=cast.provider_id)
    sign_in(web, "sam")
    assert _post(web, f"/sme/needs/{released.need_id}/matches/{released.match_id}/not-relevant").status_code == 303
    assert "You marked this as not relevant." in web.get(f"/sme/needs/{released.need_id}").text
    with unit_of_work(loaded_app.state.session_factory) as session:
        decisions, _ = decisions_and_weights(session)
        technology_id = session.scalars(select(MatchFeedback.technology_id)).one()
    # The curator approved it; the SME's answer overrides that for learning.
    assert decisions[released.need_id][technology_id] is False


def test_another_companys_need_is_refused_and_nothing_changes(web: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    other = release(loaded_app, company_id=cast.other_company_id, provider_id=cast.provider_id, title="Other secret")
    sign_in(web, "sam")
    refused = web.get(f"/sme/needs/{other.need_id}")
    assert refused.status_code == 403 and "Other secret" not in refused.text
    for path in (
        f"/sme/needs/{other.need_id}/matches/{other.match_id}/introduction",
        f"/sme/needs/{other.need_id}/matches/{other.match_id}/not-relevant",
        f"/sme/needs/{other.need_id}/withdraw",
    ):
        answer = _post(web, path)
        assert answer.status_code == 403, path
    edit = _post(web, f"/sme/needs/{other.need_id}", {"title": "Hijacked", "lang": "en"})
    assert edit.status_code == 403
    assert web.get(f"/sme/needs/{other.need_id}/edit").status_code == 403
    assert web.get("/sme/needs/999999").status_code == 404
    # A match of another need, under the member's own need's id, is no suggestion of it.
    own = release(loaded_app, company_id=cast.company_id, provider_id=cast.provider_id, title="Own")
    assert _post(web, f"/sme/needs/{own.need_id}/matches/{other.match_id}/introduction").status_code == 404
    with unit_of_work(loaded_app.state.session_factory) as session:
        assert session.scalars(select(Engagement)).first() is None
        assert session.scalars(select(MatchFeedback)).first() is None
        assert session.get(Need, other.need_id).title == "Other secret"  # type: ignore[union-attr]


def test_bad_input_gives_the_form_again_with_a_clear_error(web: TestClient, cast: Cast) -> None:
    sign_in(web, "sam")
    for data, words in (
        ({"title": "Welding", "lang": "en", "budget": "a lot"}, "budget"),
        ({"title": "Welding", "lang": "en", "min_trl": "12"}, "min_trl"),
        ({"title": "Welding", "lang": "en", "region": "Atlantis"}, "region"),
        ({"title": "   ", "lang": "en"}, "title"),
        ({"title": "Welding", "lang": "english"}, "lang"),
    ):
        answer = _post(web, "/sme/needs", data)
        assert answer.status_code == 422, data
        assert 'id="form-error"' in answer.text and words in answer.text, (data, answer.text[-2000:])
    # What the route itself cannot read is the error page too, naming the field, never JSON or a 500.
    for answer in (
        _post(web, "/sme/needs", {"lang": "en"}),
        _post(web, "/sme/needs", {"title": "x" * 301, "lang": "en"}),
    ):
        assert answer.status_code == 422 and answer.headers["content-type"].startswith("text/html")
        assert "title" in answer.text and "Something in the address or the form could not be read" in answer.text
    unreadable = web.get("/sme/needs/not-a-number", headers={"Accept-Language": "da"})
    assert unreadable.status_code == 422 and "need_id" in unreadable.text


def test_edit_and_withdraw_a_need(web: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    released = release(loaded_app, company_id=cast.company_id, provider_id=cast.provider_id)
    sign_in(web, "sam")
    assert "Svejsesømme revner" in web.get(f"/sme/needs/{released.need_id}/edit").text
    edited = _post(web, f"/sme/needs/{released.need_id}", {"title": "Cracked welds", "lang": "en", "min_trl": "7"})
    assert edited.status_code == 303, edited.text[edited.text.find("form-error") :][:300]
    with unit_of_work(loaded_app.state.session_factory) as session:
        need = session.get(Need, released.need_id)
        assert need is not None and (need.title, need.min_trl) == ("Cracked welds", 7)
    assert _post(web, f"/sme/needs/{released.need_id}/matches/{released.match_id}/not-relevant").status_code == 303
    assert _post(web, f"/sme/needs/{released.need_id}/withdraw").status_code == 303
    with unit_of_work(loaded_app.state.session_factory) as session:
        assert session.get(Need, released.need_id) is None
        # The answers went with the need: nothing could reach them to export or erase them later.
        assert session.scalars(select(MatchFeedback)).first() is None


def test_download_and_erase_the_companys_data(web: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    released = release(loaded_app, company_id=cast.company_id, provider_id=cast.provider_id)
    sign_in(web, "sam")
    assert _post(web, f"/sme/needs/{released.need_id}/matches/{released.match_id}/not-relevant").status_code == 303
    download = web.get("/sme/data/export")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    exported = json.loads(download.text)
    assert exported["company"]["id"] == cast.company_id
    assert [(f["match_id"], f["verdict"]) for f in exported["match_feedback"]] == [(released.match_id, "not_relevant")]
    assert 'id="erase-form"' in web.get("/sme/data").text
    wrong = _post(web, "/sme/data/erase", {"confirmation": "not the name"}, page="/sme/data")
    assert wrong.status_code == 303 and wrong.headers["location"] == "/sme/data"
    with unit_of_work(loaded_app.state.session_factory) as session:
        company = session.get(Company, cast.company_id)
        assert company is not None
        name = company.name
    erased = _post(web, "/sme/data/erase", {"confirmation": name}, page="/sme/data")
    assert erased.status_code == 303 and erased.headers["location"] == "/login"
    with unit_of_work(loaded_app.state.session_factory) as session:
        assert session.get(Company, cast.company_id) is None
        assert session.scalars(select(Person).where(Person.username == "sam")).first() is None
        assert session.scalars(select(MatchFeedback)).first() is None
    assert web.get("/sme", follow_redirects=False).status_code in (302, 303, 307)


def test_the_pages_speak_danish_by_choice_or_by_the_browser(web: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    assert "Log ind" in web.get("/login", headers={"Accept-Language": "da-DK,da;q=0.9,en;q=0.8"}).text
    assert 'lang="en"' in web.get("/login", headers={"Accept-Language": "fr"}).text
    sign_in(web, "sam")
    assert "Describe a need" in web.get("/sme").text
    chosen = _post(web, "/account/language", {"language": "da", "next": "/sme"})
    assert chosen.status_code == 303 and chosen.headers["location"] == "/sme"
    page = web.get("/sme", headers={"Accept-Language": "en"}).text
    assert 'lang="da"' in page and "Beskriv et behov" in page
    with unit_of_work(loaded_app.state.session_factory) as session:
        assert session.scalars(select(Person.language).where(Person.username == "sam")).one() == "da"
    assert _post(web, "/account/language", {"language": "xx"}).status_code == 422
