"""Curator pages over HTTP: sign-in, CSRF, escaping, decisions from forms, keys kept out, secrets."""

from __future__ import annotations

import stat
from html import escape, unescape
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select

from app.core.database import unit_of_work
from app.core.settings import Settings
from app.models import Match, MatchStatus, Provider, ReviewDecision
from app.people import service as curators
from app.web.highlight import highlight, term_stems
from app.web.security import session_secret
from tests.app.review.conftest import PASSWORD, csrf, curator, proposed_ids, sign_in, status
from tests.factories import need_body


def test_pages_need_sign_in(site: TestClient) -> None:
    for path in ("/review", "/review/matches/1", "/review/needs/1", "/review/decisions"):
        response = site.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


def test_sign_in_with_wrong_password_fails(site: TestClient) -> None:
    response = site.post(
        "/review/login",
        data={"username": "mette", "password": "wrong password!", "csrf_token": csrf(site)},
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert "wrong password" in response.text
    assert site.get("/review", follow_redirects=False).status_code == 303


def test_sign_in_shows_the_queue_and_sign_out_ends_it(site: TestClient, loaded_app: FastAPI) -> None:
    sign_in(site)
    page = site.get("/review")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.text.count('name="match_id"') == 20  # first page of the proposed matches
    with unit_of_work(loaded_app.state.session_factory) as session:
        mette = curators.find_curator(session, username="mette")
        assert mette is not None and mette.last_login_at is not None
    token = csrf(site, "/review")
    assert site.post("/review/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert site.get("/review", follow_redirects=False).status_code == 303


def test_sign_in_redirects_only_within_the_site(site: TestClient) -> None:
    for target, expected in (("/review/decisions", "/review/decisions"), ("https://evil.example/", "/review")):
        token = csrf(site, f"/review/login?next={target}")
        response = site.post(
            "/review/login",
            data={"username": "mette", "password": PASSWORD, "csrf_token": token, "next": target},
            follow_redirects=False,
        )
        assert response.headers["location"] == expected


def test_forms_without_the_csrf_token_are_refused(site: TestClient, loaded_app: FastAPI) -> None:
    login = site.post("/review/login", data={"username": "mette", "password": PASSWORD}, follow_redirects=False)
    assert login.status_code == 403
    sign_in(site)
    match_id = proposed_ids(loaded_app)[0]
    forged = site.post(f"/review/matches/{match_id}/decision", data={"action": "approve"}, follow_redirects=False)
    assert forged.status_code == 403
    wrong = site.post(
        f"/review/matches/{match_id}/decision",
        data={"action": "approve", "csrf_token": "guessed"},
        follow_redirects=False,
    )
    assert wrong.status_code == 403
    bulk = site.post("/review/bulk", data={"action": "approve", "match_id": [match_id]}, follow_redirects=False)
    assert bulk.status_code == 403
    assert status(loaded_app, match_id) is MatchStatus.proposed
    assert site.post("/review/logout", follow_redirects=False).status_code == 403


def test_an_api_key_cannot_reach_the_review_pages(site: TestClient, loaded_app: FastAPI) -> None:
    site.headers["Authorization"] = f"Bearer {site.headers['X-Test-Key']}"  # an admin key, even
    match_id = proposed_ids(loaded_app)[0]
    assert site.get("/review", follow_redirects=False).status_code == 303
    assert site.get(f"/review/matches/{match_id}", follow_redirects=False).status_code == 303
    response = site.post(
        f"/review/matches/{match_id}/decision",
        data={"action": "approve", "csrf_token": csrf(site)},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert status(loaded_app, match_id) is MatchStatus.proposed


def test_decisions_from_the_match_page(site: TestClient, loaded_app: FastAPI) -> None:
    sign_in(site)
    first, second = proposed_ids(loaded_app)[:2]
    page = site.get(f"/review/matches/{first}?status=proposed")
    assert page.status_code == 200
    assert 'id="next-match"' in page.text and f"/review/matches/{second}?" in page.text
    token = csrf(site, f"/review/matches/{first}")
    response = site.post(
        f"/review/matches/{first}/decision",
        data={
            "action": "approve_edited",
            "summary": "Fits their weld inspection.",
            "version": "0",
            "csrf_token": token,
            "view": "status=proposed",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/review/matches/{second}?status=proposed"  # on to the next one
    assert status(loaded_app, first) is MatchStatus.approved
    history = site.get(f"/review/matches/{first}").text
    assert "Fits their weld inspection." in history and "approve edited" in history and "mette" in history

    stale = site.post(
        f"/review/matches/{first}/decision",
        data={"action": "reject", "reason_code": "duplicate", "version": "0", "csrf_token": token},
    )
    assert "changed since it was shown" in stale.text
    assert status(loaded_app, first) is MatchStatus.approved

    site.post(
        f"/review/matches/{second}/decision",
        data={"action": "reject", "reason_code": "other", "reason_text": "closed down", "csrf_token": token},
    )
    with unit_of_work(loaded_app.state.session_factory) as session:
        decision = session.scalars(select(ReviewDecision).where(ReviewDecision.match_id == second)).one()
        assert (decision.actor, decision.actor_kind, decision.reason_code) == ("mette", "curator", "other")
        assert decision.reason_text == "closed down"


def test_bulk_from_the_queue(site: TestClient, loaded_app: FastAPI) -> None:
    sign_in(site)
    ids = proposed_ids(loaded_app)[:3]
    token = csrf(site, "/review")
    page = site.post(
        "/review/bulk", data={"action": "approve", "match_id": ids, "csrf_token": token, "view": "status=proposed"}
    )
    assert "3 matches approved." in page.text
    assert [status(loaded_app, i) for i in ids] == [MatchStatus.approved] * 3
    refused = site.post("/review/bulk", data={"action": "reject", "match_id": ids, "csrf_token": token})
    assert "a rejection needs a reason code" in refused.text
    assert [status(loaded_app, i) for i in ids] == [MatchStatus.approved] * 3


def test_queue_filters_on_the_page(site: TestClient, loaded_app: FastAPI) -> None:
    sign_in(site)
    with unit_of_work(loaded_app.state.session_factory) as session:
        match = session.get(Match, proposed_ids(loaded_app)[0])
        assert match is not None
        provider = match.technology.provider
        expected = session.scalar(
            select(Match.id).where(Match.technology.has(provider_id=provider.id)).order_by(Match.id.desc())
        )
        count = len(
            session.scalars(
                select(Match.id).where(Match.technology.has(provider_id=provider.id), Match.status == "proposed")
            ).all()
        )
    page = site.get(f"/review?provider_id={provider.id}&per_page=100").text
    assert page.count('name="match_id"') == count
    assert f'value="{expected}"' in page
    assert site.get("/review?min_score=abc&sort=nonsense&page=-3").status_code == 200


def test_need_page_lists_every_candidate(site: TestClient, loaded_app: FastAPI) -> None:
    sign_in(site)
    with unit_of_work(loaded_app.state.session_factory) as session:
        match = session.get(Match, proposed_ids(loaded_app)[0])
        assert match is not None
        need_id = match.need_id
    page = site.get(f"/review/needs/{need_id}").text
    assert page.count('class="match-link"') == 4
    assert site.get("/review/needs/999999").status_code == 404


def test_injected_html_is_shown_as_text(site: TestClient, loaded_app: FastAPI) -> None:
    site.headers["Authorization"] = f"Bearer {site.headers['X-Test-Key']}"
    company_id = site.get("/api/v1/companies").json()["items"][0]["id"]
    evil = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'
    created = site.post(
        "/api/v1/needs",
        json=need_body(company_id=company_id, title=f"Pump bearings {evil}", description=f"Bearings fail. {evil}"),
    )
    assert created.status_code == 201, created.text
    need_id = created.json()["id"]
    assert site.post(f"/api/v1/needs/{need_id}/matches").status_code == 200
    del site.headers["Authorization"]
    sign_in(site)
    with unit_of_work(loaded_app.state.session_factory) as session:
        match_id = session.scalars(select(Match.id).where(Match.need_id == need_id)).first()
    for path in (f"/review/matches/{match_id}", f"/review/needs/{need_id}", "/review?status=all&per_page=100"):
        text = site.get(path).text
        assert "<script>alert" not in text and "<img src=x" not in text
        assert "&lt;script&gt;alert(" in text


def test_disabled_curator_is_signed_out(site: TestClient, loaded_app: FastAPI) -> None:
    sign_in(site)
    with unit_of_work(loaded_app.state.session_factory) as session:
        curators.set_active(session, username="mette", active=False)
    assert site.get("/review", follow_redirects=False).status_code == 303
    response = site.post(
        "/review/login",
        data={"username": "mette", "password": PASSWORD, "csrf_token": csrf(site)},
        follow_redirects=False,
    )
    assert response.status_code == 401


def test_curator_of_another_tenant_sees_only_its_queue(site: TestClient, loaded_app: FastAPI) -> None:
    curator(loaded_app, "ole", tenant="other-cluster")
    sign_in(site, "ole")
    page = site.get("/review").text
    assert page.count('name="match_id"') == 0
    # Its filter lists come from its own matches: no other tenant's provider is named.
    with unit_of_work(loaded_app.state.session_factory) as session:
        names = session.scalars(select(Provider.name)).all()
    assert names and not any(f">{escape(name)}<" in page for name in names)
    assert site.get(f"/review/matches/{proposed_ids(loaded_app)[0]}").status_code == 404


def test_highlight_marks_sentences_and_terms_and_escapes() -> None:
    text = "Bearings fail <b>often</b>.\nWe want to know before a bearing fails."
    html = highlight(text, sentences=["We want to know before a bearing fails."], stems=term_stems(["bearings"]))
    assert '<mark class="sentence" data-pair="1"' in html
    assert html.count('<mark class="term">') == 2  # "Bearings" and "bearing": same stem
    assert "&lt;b&gt;often&lt;/b&gt;" in html and "<b>" not in html
    assert highlight("nothing shared", sentences=["absent sentence"], stems=frozenset()) == "nothing shared"


def test_secret_is_required_in_production(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="TECHMATCH_SECRET_KEY"):
        Settings(_env_file=None, production=True)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="TECHMATCH_SECRET_KEY"):
        Settings(_env_file=None, production=True, secret_key="short")  # type: ignore[call-arg]
    strong = "x" * 40
    settings = Settings(_env_file=None, production=True, secret_key=strong)  # type: ignore[call-arg]
    assert session_secret(settings) == strong


def test_development_secret_is_generated_once_per_data_dir(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    first = session_secret(settings)
    assert len(first) >= 48 and session_secret(settings) == first
    path = tmp_path / "data" / "session_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    other = Settings(_env_file=None, data_dir=tmp_path / "elsewhere")  # type: ignore[call-arg]
    assert session_secret(other) != first


def test_queue_shows_summaries_and_broken_constraints_and_decisions_show_names(
    site: TestClient, loaded_app: FastAPI
) -> None:
    """Bulk approval is not blind: each queue row carries its summary and what it breaks; the audit log
    names the need and technology of each decision."""
    with unit_of_work(loaded_app.state.session_factory) as session:
        rows = session.scalars(select(Match).where(Match.status == MatchStatus.proposed)).all()
        broken = next(m for m in rows if any(not v["satisfied"] for v in (m.explanation or {}).get("constraints", [])))
        summary = broken.explanation["summary"]
        warning = next(v["detail"] for v in broken.explanation["constraints"] if not v["satisfied"])
        title = broken.technology.title
    sign_in(site)
    queue = unescape(site.get("/review", params={"status": "all", "per_page": 100}).text)
    assert summary in queue and warning in queue
    token = csrf(site, f"/review/matches/{broken.id}")
    site.post(
        f"/review/matches/{broken.id}/decision",
        data={"action": "approve", "version": "0", "csrf_token": token},
        follow_redirects=False,
    )
    decisions = unescape(site.get("/review/decisions").text)
    assert title in decisions
    assert f"need {broken.need_id} · technology" not in decisions
