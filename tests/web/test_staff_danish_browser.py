"""In headless Chromium set to Danish: a curator works the queue and a facilitator picks a demo day's guests
with every word, the scripts' included, in Danish; each page passes axe-core.

The browser's language (Accept-Language: da-DK) chooses the pages' language before anyone picks one.
A Danish screenshot of the queue goes to $TECHMATCH_SCREENSHOTS when it is set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.axe import assert_accessible
from tests.web.live import FACILITATOR, LiveSite


@pytest.fixture
def danish(browser: Browser, site: LiveSite) -> Iterator[Page]:
    context = browser.new_context(base_url=site.base_url, viewport={"width": 1400, "height": 1000}, locale="da-DK")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _sign_in(page: Page, path: str, username: str, password: str) -> None:
    page.goto(path)
    expect(page.locator("button[type=submit]")).to_have_text("Log ind")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")


def test_a_danish_curator_reviews_in_danish(danish: Page, site: LiveSite, tmp_path: Path) -> None:
    page = danish
    _sign_in(page, "/review", site.username, site.password)
    expect(page.locator("h1")).to_have_text("Kø til gennemgang")
    expect(page.locator("html")).to_have_attribute("lang", "da")
    # The script's words come from the page: the bulk bar counts in Danish, and refuses in Danish.
    page.locator("#queue tbody input[name=match_id]").nth(0).check()
    page.locator("#queue tbody input[name=match_id]").nth(1).check()
    expect(page.locator("#selected-count")).to_have_text("2 valgt")
    assert_accessible(page)
    out = Path(os.environ.get("TECHMATCH_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / "queue-da.png"))

    page.locator("#queue a.match-link").first.click()
    page.wait_for_url("**/review/matches/**")
    match_id = page.url.split("?")[0].rsplit("/", 1)[1]
    assert_accessible(page)
    page.click("#approve-form button[value=approve]")
    expect(page.locator(".flash-ok")).to_have_text(f"Match {match_id}: godkendt.")

    page.goto("/review/decisions")
    expect(page.locator("h1")).to_have_text("Seneste beslutninger")
    expect(page.locator("table.history tbody tr").first).to_contain_text("godkendt")
    assert_accessible(page)


def test_a_danish_facilitator_picks_a_demo_days_guests_in_danish(danish: Page, site: LiveSite) -> None:
    page = danish
    _sign_in(page, "/facilitator", FACILITATOR, site.password)
    page.click("nav >> text=Demodage")
    expect(page.locator("h1")).to_have_text("Demodage")
    page.locator("[data-picker]").nth(0).get_by_role("button", name="Vælg de viste").click()
    total = page.locator("#company-choices li").count()
    expect(page.locator("[data-picked]").nth(0)).to_have_text(f"({total} valgt)")
    assert_accessible(page)

    page.click("nav >> text=Forløb")
    expect(page.locator("h1")).to_have_text("Forløb")
    expect(page.locator(".page-head .sub")).to_have_text(re.compile(r"^\d+ i alt"))
    assert_accessible(page)
