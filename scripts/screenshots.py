"""Screenshots of the review pages for the README, from a seeded server with the demo catalogue.

    .venv/bin/python scripts/screenshots.py [--model hashing] [--out docs/screenshots] [--language da]

Starts a server on 127.0.0.1 (temporary database, demo catalogue, 5 proposed matches per need),
signs in as a curator in the system Chromium, takes a few decisions, and writes queue.png and
match.png (queue-da.png and match-da.png with --language da: the browser asks for Danish pages).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.web.live holds the seeded live server

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from matching.encoders.base import DEFAULT_MODEL  # noqa: E402
from tests.web.live import CHROMIUM, LiveSite, live_site  # noqa: E402


def _sign_in(page: Page, site: LiveSite) -> None:
    page.goto("/review")
    page.fill("input[name=username]", site.username)
    page.fill("input[name=password]", site.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/review")


def _decide_a_few(page: Page) -> str:
    """Approves, edits and rejects some matches so the pages show every state; returns a match URL."""
    page.goto("/review?sort=score_desc")
    page.locator("#queue a.match-link").first.click()
    page.wait_for_url("**/review/matches/**")
    showcase = page.url.split("?")[0]
    summary = page.locator("#summary").inner_text()
    page.fill("#edited-summary", summary.split(";")[0] + "; checked with the provider: they install in Jutland.")
    page.click("#edit-form button[value=approve_edited]")
    page.wait_for_selector(".flash-ok")
    page.click("#approve-form button[value=approve]")
    page.wait_for_selector(".flash-ok")
    page.select_option("#reject-reason", "constraint_violation")
    page.fill("#reject-text", "Budget is far below the provider's price.")
    page.click("#reject-form button[value=reject]")
    page.wait_for_selector(".flash-ok")
    return showcase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL, help="encoder (default: the packaged real model)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--language", choices=("en", "da"), default="en", help="the pages' language")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as work,
        live_site(Path(work), dataset=ROOT / "data" / "demo", model=args.model) as site,
        sync_playwright() as driver,
    ):
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        locale = {"en": "en-GB", "da": "da-DK"}[args.language]
        context = browser.new_context(base_url=site.base_url, viewport={"width": 1440, "height": 900}, locale=locale)
        page = context.new_page()
        _sign_in(page, site)
        showcase = _decide_a_few(page)

        page.goto("/review?status=all&sort=score_desc")
        for i in (2, 3, 5):
            page.locator("#queue tbody input[name=match_id]").nth(i).check()
        page.locator("h1").click()  # focus off the check boxes, so j moves the current row
        page.keyboard.press("j")
        suffix = "" if args.language == "en" else f"-{args.language}"
        queue, match = args.out / f"queue{suffix}.png", args.out / f"match{suffix}.png"
        page.screenshot(path=str(queue))

        page.goto(showcase)
        page.screenshot(path=str(match), full_page=True)
        browser.close()
    print(f"wrote {queue} and {match}")


if __name__ == "__main__":
    main()
