"""axe-core run inside a page: the accessibility check every browser test of a page ends with.

axe-core comes from the npm registry (package.json, installed by `make test`); it is evaluated in the
page through the browser's debugging protocol, which the pages' strict CSP does not govern, so the
pages need no exception for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# The impacts that fail a test; "minor" and "moderate" findings are reported by axe but accepted.
BLOCKING = {"serious", "critical"}


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """The serious and critical violations of WCAG 2.1 A/AA rules on the page as it is now."""
    assert AXE.exists(), f"{AXE} is missing: run `npm ci` (make test does)"
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async () => {
            const rules = {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}};
            const r = await axe.run(document, rules);
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
        }"""
    )
    return [violation for violation in result if violation["impact"] in BLOCKING]


def assert_accessible(page: Page) -> None:
    """Fails with each serious or critical violation named, with up to five of its elements."""
    found = axe_violations(page)
    assert found == [], "axe-core: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in found
    )
