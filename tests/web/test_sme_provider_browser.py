"""End-to-end in headless Chromium: an SME member switches to Danish, describes a need in Danish, reads a
released suggestion and asks for an introduction; a provider member answers the lead and edits an
offering with a preview; a member is refused another company's page. Every page visited passes axe-core
(no serious or critical violation). Screenshots of the SME's home and need page and the provider's leads
go to TECHMATCH_SCREENSHOTS when it is set (docs/screenshots/ holds the committed ones)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.core.database import create_db_engine, create_session_factory, unit_of_work
from app.models import Match, MatchStatus, Need, Role
from app.people import service as people
from app.review import service as review
from tests.web.axe import assert_accessible
from tests.web.live import LiveSite

SME = "sofie.sme"
PROVIDER = "per.provider"
PASSWORD = "a long passphrase"


@dataclass(frozen=True)
class Seeded:
    company_id: int
    other_company_id: int
    need_id: int
    match_id: int
    technology_id: int
    technology_title: str


@pytest.fixture(scope="module")
def seeded(site: LiveSite) -> Seeded:
    """Members of one company and of the provider of one of its need's proposals, which a curator approves
    through the review service (released to both)."""
    engine = create_db_engine(f"sqlite:///{site.log.parent / 'techmatch.db'}")
    try:
        with unit_of_work(create_session_factory(engine)) as session:
            match = session.scalars(
                select(Match).where(Match.status == MatchStatus.proposed).order_by(Match.score.desc(), Match.id)
            ).first()
            assert match is not None, "the live site proposes matches for every need"
            need = session.get(Need, match.need_id)
            assert need is not None
            other = session.scalars(select(Need.company_id).where(Need.company_id != need.company_id)).first()
            assert other is not None
            review.decide(
                session,
                actor=review.Actor(name=site.username, kind="curator", tenant="default"),
                match_id=match.id,
                request=review.DecisionRequest(action=review.Action.approve),
            )
            people.create_person(
                session, username=SME, password=PASSWORD, role=Role.sme, tenant="default", company_id=need.company_id
            )
            provider_id = match.technology.provider_id
            people.create_person(
                session,
                username=PROVIDER,
                password=PASSWORD,
                role=Role.provider,
                tenant="default",
                provider_id=provider_id,
            )
            return Seeded(need.company_id, other, need.id, match.id, match.technology_id, match.technology.title)
    finally:
        engine.dispose()


def _sign_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stack button[type=submit]")


def _screenshot(page: Page, name: str) -> None:
    folder = os.environ.get("TECHMATCH_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def test_an_sme_member_describes_a_need_in_danish_and_asks_for_an_introduction(page: Page, seeded: Seeded) -> None:
    _sign_in(page, SME)
    expect(page).to_have_url(re.compile(r"/sme$"))
    assert_accessible(page)

    page.click("#language-da")
    expect(page.locator("html")).to_have_attribute("lang", "da")
    expect(page.locator("#new-need")).to_have_text("Beskriv et behov")
    _screenshot(page, "sme-home.png")
    page.click("#new-need")
    assert_accessible(page)
    page.fill("#need-title", "Revner i svejsesømme")
    page.fill(
        "#need-description",
        "Vores robotsvejsning giver revner i sømmene på tynde stålplader. Vi vil finde fejlene før maling.",
    )
    page.select_option("#need-lang", "da")
    page.fill("#need-budget", "40000")
    page.select_option("#need-trl", "6")
    page.click("#need-submit")
    expect(page.locator("#need-title")).to_have_text("Revner i svejsesømme")
    expect(page.locator(".flash-ok")).to_contain_text("Jeres behov er gemt")
    assert_accessible(page)

    page.goto(f"/sme/needs/{seeded.need_id}")
    suggestion = page.locator(f"#suggestion-{seeded.match_id}")
    expect(suggestion).to_contain_text(seeded.technology_title)
    expect(suggestion.locator(".badge")).to_have_text(re.compile("Passer"))
    assert_accessible(page)
    _screenshot(page, "sme-need.png")
    suggestion.locator("button.introduce").click()
    expect(page.locator(".flash-ok")).to_contain_text("I har bedt om en introduktion")
    expect(page.locator(f"#answer-{seeded.match_id}")).to_have_text("I har bedt om en introduktion.")
    assert_accessible(page)

    # The introduction is an engagement on the home page, whose next step the SME reports itself.
    page.goto("/sme")
    engagement = page.locator("#engagements .engagement").first
    expect(engagement.locator(".badge")).to_have_text("Introduceret")
    assert_accessible(page)
    engagement.locator("select[name=stage]").select_option("met")
    engagement.locator("button.report-step").click()
    expect(page.locator(".flash-ok")).to_contain_text("Jeres skridt er gemt")
    expect(page.locator("#engagements .engagement").first.locator(".badge")).to_have_text("Vi har mødtes")
    assert_accessible(page)
    _screenshot(page, "sme-steps.png")

    response = page.goto(f"/sme/companies/{seeded.other_company_id}")
    assert response is not None and response.status == 403
    expect(page.locator("main")).to_contain_text("Denne side tilhører en anden virksomhed.")
    assert_accessible(page)


def test_a_provider_member_answers_a_lead_and_previews_an_offering(page: Page, seeded: Seeded) -> None:
    _sign_in(page, PROVIDER)
    expect(page).to_have_url(re.compile(r"/provider$"))
    assert_accessible(page)
    page.click("#leads-link")
    lead = page.locator(f"#lead-{seeded.match_id}")
    expect(lead).to_contain_text(seeded.technology_title)
    assert_accessible(page)
    lead.locator("button.interested").click()
    expect(page.locator(".flash-ok")).to_contain_text("Your answer is saved")
    expect(page.locator(f"#answer-{seeded.match_id}")).to_have_text("You answered: interested.")
    assert_accessible(page)
    _screenshot(page, "provider-leads.png")

    page.goto(f"/provider/offerings/{seeded.technology_id}")
    assert_accessible(page)
    page.fill("#offering-description", "Vision inspection finds cracks in robot welds on thin steel before painting.")
    page.click("#preview")
    expect(page.locator("#preview-results")).to_be_visible()
    expect(page.locator("#offering-description")).to_have_value(re.compile("Vision inspection"))
    assert_accessible(page)
    page.click("#save")
    expect(page.locator(".flash-ok")).to_contain_text("The offering is saved")
    assert_accessible(page)
