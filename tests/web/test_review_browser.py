"""End-to-end in headless Chromium: sign in, filter, open, approve edited, reject, bulk, audit, CSRF, keys."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.axe import assert_accessible
from tests.web.conftest import sign_in
from tests.web.live import LiveSite


def _match_id(page: Page) -> int:
    found = re.search(r"/review/matches/(\d+)", page.url)
    assert found, page.url
    return int(found.group(1))


def _status(site: LiveSite, match_id: int) -> str:
    with site.api() as api:
        return str(api.get(f"/api/v1/review/matches/{match_id}").json()["status"])


def test_sign_in_page_comes_first(page: Page, site: LiveSite) -> None:
    page.goto("/review")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("input[name=username]", site.username)
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    expect(page.locator(".flash-error")).to_contain_text("wrong password")
    sign_in(page, site)
    expect(page.locator("h1")).to_have_text("Review queue")
    page.click("text=Sign out")
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto("/review")
    expect(page).to_have_url(re.compile(r"/login"))


def test_filter_the_queue_and_open_a_match(signed_in: Page) -> None:
    page = signed_in
    rows = page.locator("#queue tbody tr[data-match]")
    expect(rows).to_have_count(20)
    company = page.locator("select[name=company_id] option").nth(1)
    company_name = company.inner_text()
    page.select_option("select[name=company_id]", company.get_attribute("value"))
    page.click("#filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"company_id=\d+"))
    count = rows.count()
    assert count > 0
    for i in range(count):
        expect(rows.nth(i).locator(".sub").first).to_have_text(company_name)
    page.select_option("select[name=sort]", "score_asc")
    page.click("#filters button[type=submit]")
    scores = [float(t.split()[-1]) for t in page.locator("#queue tbody td.num").all_inner_texts()]
    assert scores == sorted(scores)

    rows.first.locator("a.match-link").click()
    expect(page).to_have_url(re.compile(r"/review/matches/\d+\?.*company_id="))
    expect(page.locator("#need-panel")).to_contain_text(company_name)
    # The explanation's evidence, highlighted in both texts, and each constraint's verdict.
    expect(page.locator("#need-panel mark.sentence").first).to_be_visible()
    expect(page.locator("#technology-panel mark.sentence").first).to_be_visible()
    assert page.locator("table.verdicts tr").count() >= 1
    expect(page.locator("#history")).to_contain_text("No decision yet.")


def test_approve_with_an_edited_explanation(signed_in: Page, site: LiveSite) -> None:
    page = signed_in
    page.locator("#queue a.match-link").first.click()
    match_id = _match_id(page)
    original = page.locator("#summary").inner_text()
    page.fill("#edited-summary", "Their vision system checks every weld; worth a demo in March.")
    page.click("#edit-form button[value=approve_edited]")
    expect(page.locator(".flash-ok")).to_contain_text(f"Match {match_id}: approved with the edited explanation")
    assert _match_id(page) != match_id  # moved on to the next match
    page.goto(f"/review/matches/{match_id}")
    expect(page.locator("#summary")).to_have_text("Their vision system checks every weld; worth a demo in March.")
    history = page.locator("#history tbody tr")
    expect(history).to_have_count(1)
    expect(history.first).to_contain_text("approve edited")
    expect(history.first).to_contain_text(site.username)
    expect(history.first.locator(".diff.old")).to_have_text(original)
    assert _status(site, match_id) == "approved"
    with site.api() as api:
        need_id = api.get(f"/api/v1/review/matches/{match_id}").json()["need_id"]
        shown = api.get(f"/api/v1/needs/{need_id}/matches").json()["items"]
    assert [m["explanation"]["summary"] for m in shown if m["status"] == "approved"] == [
        "Their vision system checks every weld; worth a demo in March."
    ]


def test_reject_with_a_reason_then_reopen(signed_in: Page, site: LiveSite) -> None:
    page = signed_in
    page.locator("#queue a.match-link").nth(1).click()
    match_id = _match_id(page)
    page.select_option("#reject-reason", "wrong_category")
    page.fill("#reject-text", "They sell sensors, not software.")
    page.click("#reject-form button[value=reject]")
    expect(page.locator(".flash-ok")).to_contain_text(f"Match {match_id}: rejected")
    page.goto(f"/review/matches/{match_id}")
    row = page.locator("#history tbody tr").first
    expect(row).to_contain_text("Wrong technology category")
    expect(row).to_contain_text("They sell sensors, not software.")
    assert _status(site, match_id) == "rejected"
    page.click("#reopen-form button[value=reopen]")
    expect(page.locator(".flash-ok")).to_contain_text("reopened")
    expect(page.locator("#history tbody tr")).to_have_count(2)
    assert _status(site, match_id) == "proposed"


def test_keyboard_approve_and_next(signed_in: Page, site: LiveSite) -> None:
    page = signed_in
    page.keyboard.press("j")
    expect(page.locator("#queue tr.current")).to_have_count(1)
    page.keyboard.press("o")
    expect(page).to_have_url(re.compile(r"/review/matches/\d+"))
    first = _match_id(page)
    page.keyboard.press("a")
    expect(page.locator(".flash-ok")).to_contain_text(f"Match {first}: approved")
    second = _match_id(page)
    assert second != first and _status(site, first) == "approved"
    page.keyboard.press("n")
    page.wait_for_url(re.compile(rf"/review/matches/(?!{second}\b)\d+"))
    page.keyboard.press("r")
    expect(page.locator("#reject-reason")).to_be_focused()


def test_bulk_approve_from_the_queue(signed_in: Page, site: LiveSite) -> None:
    page = signed_in
    boxes = page.locator("#queue tbody input[name=match_id]")
    ids = [int(boxes.nth(i).get_attribute("value") or 0) for i in range(3)]
    for i in range(3):
        boxes.nth(i).check()
    expect(page.locator("#selected-count")).to_have_text("3 selected")
    page.click("#bulk-approve")
    expect(page.locator(".flash-ok")).to_have_text("3 matches approved.")
    assert [_status(site, i) for i in ids] == ["approved"] * 3
    for match_id in ids:
        expect(page.locator(f"#queue tr[data-match='{match_id}']")).to_have_count(0)


def test_audit_trail_is_visible(signed_in: Page, site: LiveSite) -> None:
    page = signed_in
    page.locator("#queue a.match-link").first.click()
    match_id = _match_id(page)
    page.click("#approve-form button[value=approve]")
    page.goto("/review/decisions")
    first = page.locator("table.history tbody tr").first
    expect(first.locator(f"a[href='/review/matches/{match_id}']")).to_have_count(1)
    expect(first).to_contain_text("approve")
    expect(first).to_contain_text("proposed → approved")


def test_forged_post_without_csrf_token_is_refused(signed_in: Page, site: LiveSite) -> None:
    page = signed_in
    page.locator("#queue a.match-link").first.click()
    match_id = _match_id(page)
    # The signed-in browser's own cookies, but no token: what a cross-site form could send.
    response = page.context.request.post(
        f"/review/matches/{match_id}/decision", form={"action": "approve"}, max_redirects=0
    )
    assert response.status == 403
    assert _status(site, match_id) == "proposed"


def test_integration_keys_cannot_reach_review(browser: Browser, site: LiveSite) -> None:
    keyed = browser.new_context(base_url=site.base_url, extra_http_headers={"Authorization": f"Bearer {site.api_key}"})
    try:
        page = keyed.new_page()
        page.goto("/review")
        expect(page).to_have_url(re.compile(r"/login"))
    finally:
        keyed.close()
    headers = {"Authorization": f"Bearer {site.sme_key}"}
    assert httpx.get(f"{site.base_url}/api/v1/review/queue", headers=headers).status_code == 403
    decision = httpx.post(
        f"{site.base_url}/api/v1/review/matches/1/decisions", headers=headers, json={"action": "approve"}
    )
    assert decision.status_code == 403


def test_injected_script_in_a_need_never_runs(signed_in: Page, site: LiveSite) -> None:
    with site.api() as api:
        company_id = api.get("/api/v1/companies").json()["items"][0]["id"]
        need = api.post(
            "/api/v1/needs",
            json={
                "company_id": company_id,
                "title": "Weld cracks <script>alert('title')</script>",
                "description": "Cracks in welds reach customers. <img src=x onerror=\"alert('img')\"> "
                "<script>alert('description')</script>",
            },
        ).json()
        api.post(f"/api/v1/needs/{need['id']}/matches", params={"k": 3}).raise_for_status()
    page = signed_in
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"/review/needs/{need['id']}")
    expect(page.locator("h1")).to_have_text("Weld cracks <script>alert('title')</script>")
    page.locator("a.match-link").first.click()
    expect(page.locator("#need-panel .text")).to_contain_text("<img src=x onerror=")
    assert page.locator("#need-panel script, #need-panel img").count() == 0
    assert dialogs == []


@pytest.mark.parametrize("path", ["/review", "/review/decisions"])
def test_review_pages_pass_axe(signed_in: Page, path: str) -> None:
    signed_in.goto(path)
    assert_accessible(signed_in)


def test_match_and_sign_in_pages_pass_axe(signed_in: Page, browser: Browser, site: LiveSite) -> None:
    signed_in.locator("#queue a.match-link").first.click()
    assert_accessible(signed_in)
    anonymous = browser.new_page(base_url=site.base_url)
    anonymous.goto("/login")
    assert_accessible(anonymous)
    anonymous.close()
