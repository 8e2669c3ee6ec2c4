"""End-to-end in headless Chromium: a staff member invites an SME member, who accepts, signs in, lands on the
SME home and is refused another company's page."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import sign_in
from tests.web.live import LiveSite

MEMBER = "karin.sme"
MEMBER_PASSWORD = "our own passphrase"


def test_invite_accept_sign_in_and_stay_in_ones_own_company(page: Page, browser: Browser, site: LiveSite) -> None:
    sign_in(page, site)  # the curator, staff
    page.click("nav >> text=Invitations")
    expect(page.locator("h1")).to_have_text("Invitations")
    page.select_option("#invite-role", "sme")
    companies = page.locator("#invite-company option")
    ours = companies.nth(1)
    company_name, company_id = ours.inner_text(), ours.get_attribute("value")
    other_id = companies.nth(2).get_attribute("value")
    assert company_id and other_id and company_id != other_id
    page.select_option("#invite-company", company_id)
    page.click("#invite-form button[type=submit]")
    expect(page.locator("#new-invitation")).to_contain_text(company_name)
    link = page.locator("#invitation-link").input_value()
    assert re.fullmatch(rf"{re.escape(site.base_url)}/invitations/[\w-]{{40,}}", link), link
    page.click("text=Sign out")
    expect(page).to_have_url(re.compile(r"/login$"))

    # The member, in a browser of their own.
    member = browser.new_context(base_url=site.base_url)
    try:
        their = member.new_page()
        their.goto(link)
        expect(their.locator("#invited-for")).to_have_text(company_name)
        their.fill("input[name=username]", MEMBER)
        their.fill("input[name=password]", MEMBER_PASSWORD)
        their.fill("input[name=password_again]", MEMBER_PASSWORD)
        their.click("#accept-form button[type=submit]")
        expect(their).to_have_url(re.compile(r"/login\?username="))
        expect(their.locator(".flash-ok")).to_contain_text("Your account is ready")
        expect(their.locator("input[name=username]")).to_have_value(MEMBER)
        their.fill("input[name=password]", MEMBER_PASSWORD)
        their.click("button[type=submit]")
        expect(their).to_have_url(re.compile(r"/sme$"))
        expect(their.locator("h1")).to_have_text(company_name)
        expect(their.locator("#who")).to_have_text(MEMBER)

        their.click(f"a[href='/sme/companies/{company_id}'] >> nth=0")
        expect(their.locator("#company-name")).to_have_text(company_name)
        response = their.goto(f"/sme/companies/{other_id}")
        assert response is not None and response.status == 403
        expect(their.locator("main")).to_contain_text("This page belongs to another company.")
        response = their.goto("/review")
        assert response is not None and response.status == 403

        # The link was single-use.
        response = their.goto(link)
        assert response is not None and response.status == 404
    finally:
        member.close()
