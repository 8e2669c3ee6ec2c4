"""The widget: a publishable key does nothing but submit needs, from its origins, past the spam checks and limits."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import cli
from app.core.database import unit_of_work
from app.core.settings import Settings
from app.keys.service import create_publishable_key
from app.main import create_app
from app.models import Match, MatchStatus, Need, Role, SubmissionStatus, WidgetSubmission
from app.widget import tokens
from app.widget.texts import choose_language
from tests.app.core.test_auth_routes import _api, _send
from tests.app.people.conftest import Cast, create_cast, csrf, sign_in
from tests.app.support import create_api_key

SITE = "https://cluster.example"
_TOKEN = re.compile(r'name="token" value="([^"]+)"')


@pytest.fixture
def widget_settings(loaded_settings: Settings) -> Settings:
    # Generous limits; the limit's own test sets low ones.
    return loaded_settings.model_copy(update={"widget_client_rate_limit": "1000/hour"})


@pytest.fixture
def widget_app(widget_settings: Settings) -> Iterator[FastAPI]:
    created = create_app(widget_settings)
    yield created
    created.state.engine.dispose()


@pytest.fixture
def browser(widget_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(widget_app, base_url="https://techmatch.example") as client:
        yield client


def publishable(
    app: FastAPI, *, tenant: str = "default", origins: tuple[str, ...] = (SITE,), limit: str | None = None
) -> str:
    with unit_of_work(app.state.session_factory) as session:
        return create_publishable_key(session, tenant=tenant, origins=origins, name="website", rate_limit=limit).secret


def prefix_of(key: str) -> str:
    return key.split("_")[1]


def form(app: FastAPI, key: str, *, age: float = 10, **changes: str) -> dict[str, str]:
    """What a visitor sends, with a token as if the form had been shown `age` seconds ago."""
    token = tokens.issue(secret=app.state.signing_secret, key_prefix=prefix_of(key), now=time.time() - age)
    return {
        "key": key,
        "lang": "en",
        "token": token,
        "website": "",
        "name": "Hanne Holm",
        "email": "hanne@holm-metal.dk",
        "company": "Holm Metal ApS",
        "need_title": "Automated deburring of laser-cut steel parts",
        "description": "We deburr 2,000 parts a day by hand and want a machine or robot cell to do it.",
    } | changes


def stored(app: FastAPI) -> list[tuple[str, str, str, str]]:
    with unit_of_work(app.state.session_factory) as session:
        rows = session.scalars(select(WidgetSubmission).order_by(WidgetSubmission.id)).all()
        return [(r.tenant, r.need.tenant, r.need.title, r.contact_email) for r in rows]


def test_a_publishable_key_is_refused_by_every_api_route(client: TestClient, app: FastAPI) -> None:
    key = publishable(app)
    wrong = []
    for endpoint in _api(app):
        for headers in ({"Authorization": f"Bearer {key}"}, {"Authorization": "", "X-API-Key": key}):
            response = _send(client, endpoint, headers)
            if response.status_code != 403 or response.json()["type"] != "/problems/forbidden":
                wrong.append((endpoint.method, endpoint.path, response.status_code))
    assert wrong == []
    # Public routes treat it as no key at all.
    assert client.get("/readyz", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_the_form_may_be_framed_by_the_keys_origins_only(browser: TestClient, widget_app: FastAPI) -> None:
    key = publishable(widget_app, origins=(SITE, "https://www.cluster.example"))
    response = browser.get("/widget", params={"key": key})
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors https://cluster.example https://www.cluster.example" in policy
    assert "script-src 'self'" in policy and "x-frame-options" not in response.headers
    assert "set-cookie" not in response.headers
    assert 'name="website"' in response.text and _TOKEN.search(response.text)
    # Every other page may not be framed at all.
    assert browser.get("/login").headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("key", ["", "pk_000000000000_nottherightsecretatall", "regular"])
def test_no_form_without_a_valid_publishable_key(browser: TestClient, widget_app: FastAPI, key: str) -> None:
    if key == "regular":
        key = create_api_key(widget_app, scopes=["needs:write"])
    response = browser.get("/widget", params={"key": key})
    assert response.status_code == (400 if not key else 403)
    assert "not set up correctly" in response.text and 'name="token"' not in response.text
    assert browser.post("/widget", data=form(widget_app, key or "x_y")).status_code in {400, 403}
    assert stored(widget_app) == []


def test_another_sites_page_is_refused(browser: TestClient, widget_app: FastAPI) -> None:
    key = publishable(widget_app)
    framed = browser.get("/widget", params={"key": key}, headers={"Referer": "https://evil.example/page"})
    assert framed.status_code == 403 and "may not be used on this website" in framed.text
    assert browser.get("/widget", params={"key": key}, headers={"Referer": f"{SITE}/contact"}).status_code == 200
    sent = browser.post("/widget", data=form(widget_app, key), headers={"Origin": "https://evil.example"})
    assert sent.status_code == 403
    assert stored(widget_app) == []


def test_a_visitors_need_is_stored_in_the_keys_tenant_for_curators(browser: TestClient, widget_app: FastAPI) -> None:
    cast: Cast = create_cast(widget_app)
    key = publishable(widget_app, tenant="default")
    north = publishable(widget_app, tenant="north", origins=("https://north.example",))
    # The form inside the frame posts from techmatch's own origin.
    sent = browser.post(
        "/widget", data=form(widget_app, key), headers={"Origin": "https://techmatch.example"}, follow_redirects=False
    )
    assert sent.status_code == 303, sent.text
    confirmation = browser.get(sent.headers["location"])
    assert confirmation.status_code == 200
    assert "curators read every need" in confirmation.text and "contacted by e-mail" in confirmation.text
    assert "frame-ancestors https://cluster.example" in confirmation.headers["content-security-policy"]
    browser.post("/widget", data=form(widget_app, north, need_title="Vision inspection of welds"))
    assert stored(widget_app) == [
        ("default", "default", "Automated deburring of laser-cut steel parts", "hanne@holm-metal.dk"),
        ("north", "north", "Vision inspection of welds", "hanne@holm-metal.dk"),
    ]
    # The curator of the default tenant sees their tenant's need, with whom to contact, and can open it.
    assert sign_in(browser, cast.usernames[Role.curator]).status_code == 303
    listing = browser.get("/review/widget")
    assert listing.status_code == 200
    assert "Automated deburring" in listing.text and "hanne@holm-metal.dk" in listing.text
    assert "Vision inspection of welds" not in listing.text
    with unit_of_work(widget_app.state.session_factory) as session:
        need_id = session.scalars(select(Need.id).where(Need.title.startswith("Automated deburring"))).one()
        # Its proposals are already in the curators' queue, as for a need described on the SME pages.
        proposed = session.scalars(select(Match).where(Match.need_id == need_id)).all()
        assert proposed and {m.status for m in proposed} == {MatchStatus.proposed}
    assert browser.get(f"/review/needs/{need_id}").status_code == 200

    # Once the sender is contacted, the curator marks the sending reviewed (and can take it back).
    with unit_of_work(widget_app.state.session_factory) as session:
        ours = session.scalars(select(WidgetSubmission).where(WidgetSubmission.tenant == "default")).one().id
        theirs = session.scalars(select(WidgetSubmission).where(WidgetSubmission.tenant == "north")).one().id
    token = csrf(browser, "/review/widget")
    marked = browser.post(f"/review/widget/{ours}/status", data={"csrf_token": token, "status": "reviewed"})
    assert marked.status_code == 200 and "Marked reviewed." in marked.text
    assert f'id="status-{ours}">reviewed<' in marked.text and f'id="pending-{ours}"' in marked.text
    # Another tenant's sending is a 404 like a missing one; an unknown status is refused; nothing changes.
    other = browser.post(f"/review/widget/{theirs}/status", data={"csrf_token": token, "status": "reviewed"})
    assert other.status_code == 404
    assert browser.post(f"/review/widget/{ours}/status", data={"csrf_token": token, "status": "x"}).status_code == 422
    with unit_of_work(widget_app.state.session_factory) as session:
        statuses = dict(session.execute(select(WidgetSubmission.tenant, WidgetSubmission.status)).all())
    assert statuses == {"default": SubmissionStatus.reviewed, "north": SubmissionStatus.pending}


@pytest.mark.parametrize(
    ("changes", "age", "status", "says"),
    [
        ({"website": "http://spam.example"}, 10, 400, "could not be sent"),
        ({}, 0.5, 400, "very fast"),
        ({}, 3 * 3600, 400, "open too long"),
        ({"token": "1700000000.forged"}, 10, 400, "could not be sent"),
        ({"email": "not an address"}, 10, 422, "e-mail address such as"),
        ({"need_title": ""}, 10, 422, "in one line"),
    ],
)
def test_spam_and_mistakes_are_refused_with_a_clear_page(
    browser: TestClient, widget_app: FastAPI, changes: dict[str, str], age: float, status: int, says: str
) -> None:
    key = publishable(widget_app)
    response = browser.post("/widget", data=form(widget_app, key, age=age, **changes))
    assert response.status_code == status
    assert says in response.text
    assert stored(widget_app) == []
    if status == 422 or "open too long" in says:
        # A person keeps what they typed, with a fresh token.
        assert "Holm Metal ApS" in response.text and _TOKEN.search(response.text)


def test_the_limits_answer_429_with_retry_after(loaded_settings: Settings) -> None:
    app = create_app(loaded_settings.model_copy(update={"widget_client_rate_limit": "2/hour"}))
    try:
        with TestClient(app) as browser:
            key = publishable(app)
            codes = [browser.post("/widget", data=form(app, key), follow_redirects=False).status_code for _ in range(3)]
            assert codes == [303, 303, 429]
            refused = browser.post("/widget", data=form(app, key))
            assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
            assert "Too many needs" in refused.text
            # The key's own limit counts every address together.
            tight = publishable(app, limit="1/hour")
            app.state.rate_limits.limiter.storage.reset()
            assert browser.post("/widget", data=form(app, tight), follow_redirects=False).status_code == 303
            assert browser.post("/widget", data=form(app, tight)).status_code == 429
    finally:
        app.state.engine.dispose()


def test_danish_or_english_by_parameter_or_accept_language(browser: TestClient, widget_app: FastAPI) -> None:
    key = publishable(widget_app)
    danish = browser.get("/widget", params={"key": key}, headers={"Accept-Language": "da-DK,da;q=0.9,en;q=0.8"})
    assert '<html lang="da">' in danish.text and "Fortæl os" in danish.text
    assert '<html lang="en">' in browser.get("/widget", params={"key": key, "lang": "en"}).text
    assert choose_language(None, "de, en;q=0.5, da;q=0.7") == "da"
    assert choose_language("xx", None) == "en"


def test_tokens_are_bound_to_their_key_and_time() -> None:
    token = tokens.issue(secret="s" * 40, key_prefix="aaaa", now=1000)

    def verdict(token: str, key_prefix: str, now: float) -> tokens.Verdict:
        return tokens.check(secret="s" * 40, token=token, key_prefix=key_prefix, now=now, min_age=3, max_age=7200)

    assert verdict(token, "aaaa", 1010) is tokens.Verdict.ok
    assert verdict(token, "bbbb", 1010) is tokens.Verdict.invalid
    assert verdict(token, "aaaa", 1001) is tokens.Verdict.too_fast
    assert verdict(token, "aaaa", 9000) is tokens.Verdict.expired
    assert verdict("garbage", "aaaa", 1010) is tokens.Verdict.invalid


def test_the_cli_creates_a_publishable_key_and_prints_the_snippet(runner: CliRunner) -> None:
    result = runner.invoke(
        cli,
        ["keys", "create", "--tenant", "default", "--publishable", "--origin", SITE, "--site", "https://tm.example"],
    )
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("pk_")
    assert f'<script src="https://tm.example/static/widget-embed.js" data-key="{key}" async></script>' in result.output
    assert f'src="https://tm.example/widget?key={key}"' in result.output
    refused = runner.invoke(cli, ["keys", "create", "--tenant", "default", "--publishable"])
    assert refused.exit_code != 0
    listed = runner.invoke(cli, ["keys", "list", "--json"])
    assert f'"origins": ["{SITE}"]' in listed.stdout


def test_cors_preflight_answers_the_keys_origins_only(browser: TestClient, widget_app: FastAPI) -> None:
    key = publishable(widget_app)
    asked = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    allowed = browser.options("/widget/needs", params={"key": key}, headers={"Origin": SITE} | asked)
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == SITE
    assert allowed.headers["access-control-allow-methods"] == "POST" and "Origin" in allowed.headers["vary"]
    for origin in ("https://evil.example", "null", ""):
        refused = browser.options("/widget/needs", params={"key": key}, headers={"Origin": origin} | asked)
        assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
    assert (
        browser.get("/widget/token", params={"key": key}, headers={"Origin": "https://evil.example"}).status_code == 403
    )
    regular = create_api_key(widget_app, scopes=["admin"])
    assert (
        browser.options("/widget/needs", params={"key": regular}, headers={"Origin": SITE} | asked).status_code == 403
    )


def test_a_websites_own_script_sends_a_need_as_json(browser: TestClient, widget_app: FastAPI) -> None:
    key = publishable(widget_app)
    origin = {"Origin": SITE}
    given = browser.get("/widget/token", params={"key": key}, headers=origin)
    assert given.status_code == 200 and given.headers["access-control-allow-origin"] == SITE
    assert given.json()["min_fill_seconds"] == 3
    fresh = form(widget_app, key) | {"token": given.json()["token"]}
    too_fast = browser.post("/widget/needs", params={"key": key}, json=fresh, headers=origin)
    assert too_fast.status_code == 400 and too_fast.headers["content-type"] == "application/problem+json"
    assert "very fast" in too_fast.json()["detail"] and too_fast.headers["access-control-allow-origin"] == SITE
    wrong = browser.post("/widget/needs", params={"key": key}, json=form(widget_app, key, email="x"), headers=origin)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["location"] == ["body", "email"]
    trapped = browser.post(
        "/widget/needs", params={"key": key}, json=form(widget_app, key, website="x"), headers=origin
    )
    assert trapped.status_code == 400
    elsewhere = browser.post(
        "/widget/needs", params={"key": key}, json=form(widget_app, key), headers={"Origin": "https://evil.example"}
    )
    assert elsewhere.status_code == 403 and "access-control-allow-origin" not in elsewhere.headers
    assert stored(widget_app) == []
    sent = browser.post("/widget/needs", params={"key": key}, json=form(widget_app, key), headers=origin)
    assert sent.status_code == 201, sent.text
    assert sent.json()["status"] == "pending" and "contacted by e-mail" in " ".join(sent.json()["next"])
    assert stored(widget_app) == [
        ("default", "default", "Automated deburring of laser-cut steel parts", "hanne@holm-metal.dk")
    ]
