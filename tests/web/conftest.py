"""Browser fixtures: one seeded server per module, the system Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.web.live import CHROMIUM, LiveSite, live_site

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    with live_site(tmp_path_factory.mktemp("live"), dataset=DEMO) as running:
        yield running


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    # The system browser (Debian's chromium package, from scripts/system-deps.sh); never a download.
    # Missing, it is a failure, not a skip: these tests are part of `make test`.
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run scripts/system-deps.sh (apt-get install chromium)"
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
    yield launched
    launched.close()


@pytest.fixture
def context(browser: Browser, site: LiveSite) -> Iterator[BrowserContext]:
    fresh = browser.new_context(base_url=site.base_url, viewport={"width": 1400, "height": 1000})
    fresh.set_default_timeout(15_000)
    yield fresh
    fresh.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def signed_in(page: Page, site: LiveSite) -> Page:
    sign_in(page, site)
    return page


def sign_in(page: Page, site: LiveSite) -> None:
    page.goto("/review")
    page.fill("input[name=username]", site.username)
    page.fill("input[name=password]", site.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/review")
