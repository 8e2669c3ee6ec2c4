"""End-to-end in headless Chromium: a facilitator plans a demo day for the demo catalogue, locks and removes
pairs, compares revisions, prints and downloads the plan, moves an engagement to adopted and reads the
programme's dashboard and report; every page passes axe-core.

Screenshots of the grid, the board and the dashboard go to $TECHMATCH_SCREENSHOTS when it is set
(`TECHMATCH_SCREENSHOTS=docs/screenshots pytest tests/web/test_facilitator_browser.py` refreshes the docs'),
to the test's temporary folder otherwise.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.web.axe import assert_accessible
from tests.web.live import FACILITATOR, LiveSite


def _shot(page: Page, folder: Path, name: str) -> None:
    out = Path(os.environ.get("TECHMATCH_SCREENSHOTS") or folder)
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / name))


def _loaded(page: Page, selector: str) -> None:
    """Every image of `selector` has arrived (a PNG served to the signed-in browser, not only to API keys)."""
    page.wait_for_function(
        "s => [...document.querySelectorAll(s)].every(i => i.complete && i.naturalWidth > 0)", arg=selector
    )


def test_a_facilitator_plans_a_demo_day_and_follows_it_up(page: Page, site: LiveSite, tmp_path: Path) -> None:
    page.goto("/facilitator")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("input[name=username]", FACILITATOR)
    page.fill("input[name=password]", site.password)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/facilitator$"))
    assert_accessible(page)

    # A new demo day: every SME and provider of the demo catalogue, picked through the search filter.
    page.click("nav >> text=Demo days")
    expect(page.locator("h1")).to_have_text("Demo days")
    assert_accessible(page)
    smes = page.locator("#company-choices li")
    total = smes.count()
    assert total > 10
    first = smes.first.inner_text().strip()
    search = page.get_by_label("Search SMEs")
    search.fill(first.lower()[:12])
    expect(page.locator("#company-choices li:visible")).not_to_have_count(total)
    expect(page.locator("#company-choices li:visible").first).to_contain_text(first)
    search.fill("")
    page.locator("[data-picker]").nth(0).get_by_role("button", name="Select shown").click()
    page.locator("[data-picker]").nth(1).get_by_role("button", name="Select shown").click()
    expect(page.locator("#company-choices input:checked")).to_have_count(total)
    page.fill("#plan-name", "Spring demo day")
    page.fill("input[name=rounds]", "4")
    page.fill("input[name=max_per_company]", "2")
    page.fill("input[name=default_capacity]", "4")
    page.check("input[name=fairness][value=coverage]")
    page.click("#new-demo-day button[type=submit]")
    # The progress page, then the plan when the optimiser has finished.
    page.wait_for_url(re.compile(r"/facilitator/demo-days/\d+$"), timeout=90_000)
    plan_url = page.url
    expect(page.locator("#plan-name")).to_have_text("Spring demo day")
    expect(page.locator("#totals")).to_contain_text("greedy (best pairs first, ignoring fairness)")
    cells = page.locator("#schedule td.pair")
    assert cells.count() >= 2
    expect(cells.first.locator(".score")).to_have_text(re.compile(r"0\.\d\d · (strong|good|possible|weak)"))
    _loaded(page, "#heatmap")
    assert_accessible(page)
    _shot(page, tmp_path, "demo-day-plan.png")

    # Lock one pair, remove another, re-optimise: revision 2 keeps the one and drops the other.
    locked = cells.nth(0).get_attribute("data-pair")
    removed = cells.nth(1).get_attribute("data-pair")
    cells.nth(0).locator("input[name=lock]").check()
    cells.nth(1).locator("input[name=remove]").check()
    page.fill("input[name=note]", "Keep the first demo; the second SME has met them already")
    page.click("#reoptimise")
    page.wait_for_url(plan_url, timeout=90_000)
    expect(page.locator(".flash-ok")).to_contain_text("Revision 2")
    expect(page.locator(f'#schedule td.pair.locked[data-pair="{locked}"]')).to_have_count(1)
    expect(page.locator(f'#schedule td.pair[data-pair="{removed}"]')).to_have_count(0)

    page.click("text=what changed")
    expect(page.locator("h1")).to_have_text("Revision 1 → revision 2")
    expect(page.locator("#removed")).not_to_contain_text("None.")
    assert_accessible(page)

    # The printable plan and the downloads, in the signed-in browser.
    page.goto(plan_url)
    page.click("#print-link")
    expect(page.locator("h1")).to_have_text("Spring demo day")
    expect(page.locator("section.providers h2")).to_have_text("Technology providers")
    expect(page.locator("section.companies h2")).to_have_text("SMEs")
    assert_accessible(page)
    page.goto(plan_url)
    with page.expect_download() as csv:
        page.click("#csv-link")
    assert "round" in Path(csv.value.path()).read_text(encoding="utf-8").splitlines()[0]
    with page.expect_download() as xlsx:
        page.click("#xlsx-link")
    assert Path(xlsx.value.path()).read_bytes()[:2] == b"PK"

    # The day was held: its pairs become engagements; one goes on to a pilot and is adopted.
    page.select_option("#engagement-stage", "demonstrated")
    page.click("#engagements-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/facilitator/engagements$"))
    expect(page.locator(".flash-ok")).to_contain_text("engagements recorded as demonstrated")
    card = page.locator("#column-demonstrated article").first
    title = card.locator("h3").inner_text()
    card.get_by_role("button", name=re.compile("Pilot")).click()
    pilot = page.locator("#column-pilot article", has_text=title)
    expect(pilot).to_have_count(1)
    pilot.get_by_role("button", name=re.compile("Adopted")).click()
    adopted = page.locator("#column-adopted article", has_text=title)
    expect(adopted).to_have_count(1)
    assert_accessible(page)
    _shot(page, tmp_path, "engagements-board.png")
    adopted.locator("h3 a").click()
    expect(page.locator("#stage")).to_have_text("Adopted")
    expect(page.locator("#history")).to_contain_text("moved pilot → adopted")
    assert_accessible(page)
    # The training plan: a competence the SME's people learn, planned for a day.
    row = page.locator("#training-form tbody tr").first
    row.locator("input[name=competence]").fill("cobot programming")
    row.locator("select[name=status]").select_option("planned")
    row.locator("input[name=planned_on]").fill("2030-02-01")
    page.click("#save-training")
    expect(page.locator(".flash-ok")).to_contain_text("Training plan saved.")
    expect(page.locator("#history")).to_contain_text("updated training")
    assert_accessible(page)
    _shot(page, tmp_path, "engagement-training.png")

    # The programme: figures, plots and the report.
    page.click("nav >> text=Programme")
    expect(page.locator("#funnel")).to_contain_text("adopted")
    _loaded(page, "img.plot")
    assert_accessible(page)
    _shot(page, tmp_path, "programme-dashboard.png")
    page.click("#report-link")
    expect(page.locator("#adoptions")).not_to_have_text("0")
    assert_accessible(page)
