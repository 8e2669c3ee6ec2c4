"""End-to-end in headless Chromium: a cluster's page on another origin embeds the widget, a visitor sends a need,
reads what happens next, and the need is stored for the cluster's curators."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from app.core.database import create_db_engine, create_session_factory, unit_of_work
from app.keys.service import create_publishable_key
from app.models import WidgetSubmission
from tests.web.axe import assert_accessible
from tests.web.live import LiveSite

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLE = DOCS / "widget-example.html"
SCREENSHOT = DOCS / "screenshots" / "widget.png"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # the test's output, not the server's
        pass


@pytest.fixture
def cluster_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A second web server on another port of 127.0.0.1: another origin, as a cluster's website is."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()
        server.server_close()


def _publishable_key(site: LiveSite, origin: str) -> str:
    engine = create_db_engine(site.database_url)
    try:
        with unit_of_work(create_session_factory(engine)) as session:
            return create_publishable_key(session, tenant="default", origins=[origin], name="cluster website").secret
    finally:
        engine.dispose()


def _submissions(site: LiveSite) -> list[tuple[str, str, str]]:
    engine = create_db_engine(site.database_url)
    try:
        with unit_of_work(create_session_factory(engine)) as session:
            rows = session.scalars(select(WidgetSubmission)).all()
            return [(row.tenant, row.need.title, row.contact_email) for row in rows]
    finally:
        engine.dispose()


def test_a_visitor_sends_a_need_through_the_widget_on_a_cluster_page(
    browser: Browser, site: LiveSite, cluster_site: tuple[str, Path]
) -> None:
    origin, folder = cluster_site
    key = _publishable_key(site, origin)
    # The documented example, as a cluster would paste it.
    page_html = EXAMPLE.read_text(encoding="utf-8").replace("https://techmatch.example", site.base_url)
    (folder / "index.html").write_text(page_html.replace("pk_YOUR_KEY", key), encoding="utf-8")

    context = browser.new_context(viewport={"width": 900, "height": 1100})
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        page.goto(f"{origin}/index.html")
        frame_element = page.locator("iframe[title='Send us your need']")
        expect(frame_element).to_be_visible()
        widget = page.frame_locator("iframe[title='Send us your need']")
        expect(widget.locator("h1")).to_have_text("Tell us what your company needs")
        shown = time.monotonic()
        widget.get_by_label("Your name").fill("Hanne Holm")
        widget.get_by_label("Your e-mail").fill("hanne@holm-metal.dk")
        widget.get_by_label("Company").fill("Holm Metal ApS")
        widget.get_by_label("What do you need?").fill("Automated deburring of laser-cut steel parts")
        widget.get_by_label("Describe the challenge").fill(
            "We deburr 2,000 parts a day by hand and want a machine or robot cell to do it."
        )
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        # A person takes longer than the form's minimum fill time; so does this test.
        time.sleep(max(0.0, 3.5 - (time.monotonic() - shown)))
        widget.get_by_role("button", name="Send").click()
        expect(widget.locator("#widget-sent")).to_have_text("Thank you, we have received your need")
        expect(widget.locator(".next")).to_contain_text("You will be contacted by e-mail")
        assert _submissions(site) == [
            ("default", "Automated deburring of laser-cut steel parts", "hanne@holm-metal.dk")
        ]

        # A page of an origin the key does not name: told so when it says where it is (its Referer), and
        # refused by the browser itself (the form's frame-ancestors) when it hides that.
        src = f"{site.base_url}/widget?key={key}"
        (folder / "elsewhere.html").write_text(
            f'<!doctype html><title>x</title><iframe title="told" src="{src}"></iframe>'
            f'<iframe title="hidden" referrerpolicy="no-referrer" src="{src}"></iframe>',
            encoding="utf-8",
        )
        other = context.new_page()
        other.goto(origin.replace("127.0.0.1", "localhost") + "/elsewhere.html")
        told = other.frame_locator("iframe[title='told']")
        expect(told.locator("#widget-error")).to_have_text("This form may not be used on this website.")
        other.wait_for_timeout(1000)
        assert other.frame_locator("iframe[title='hidden']").locator("#widget-form").count() == 0

        # The widget's own page passes the accessibility check.
        alone = context.new_page()
        alone.goto(f"{site.base_url}/widget?key={key}")
        expect(alone.locator("h1")).to_have_text("Tell us what your company needs")
        assert_accessible(alone)
    finally:
        context.close()
