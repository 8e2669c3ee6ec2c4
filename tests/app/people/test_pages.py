"""People's pages over HTTP: sign-in and homes, scoping of SME and provider members, invitations (and their
e-mail through a local SMTP receiver), sessions that end on the server, production cookies."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError
from sqlalchemy import select

from app.core.database import unit_of_work
from app.core.settings import Settings
from app.main import create_app
from app.models import Invitation, Match, MatchStatus, Need, Person, Role, Technology, WebSession
from app.people import service as people
from scripts.liveserver import free_port
from tests.app.people.conftest import PASSWORD, Cast, create_cast, csrf, sign_in

_LINK = re.compile(r'id="invitation-link"[^>]*value="([^"]+)"')


def test_each_role_lands_on_its_home(web: TestClient, cast: Cast) -> None:
    homes = {Role.curator: "/review", Role.facilitator: "/facilitator", Role.sme: "/sme", Role.provider: "/provider"}
    for role, username in cast.usernames.items():
        response = sign_in(web, username)
        assert response.status_code == 303 and response.headers["location"] == homes[role]
        assert web.get("/", follow_redirects=False).headers["location"] == homes[role]
        page = web.get(homes[role])
        assert page.status_code == 200, (role, page.text[:300])
        assert username in page.text and "default" in page.text  # who and the tenant
        assert 'action="/logout"' in page.text
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        web.post("/logout", data={"csrf_token": csrf(web, "/account")})
    assert web.get("/", follow_redirects=False).headers["location"] == "/login"


def test_homes_name_the_company_and_the_provider(web: TestClient, cast: Cast) -> None:
    sign_in(web, "sam")
    assert "Brønderslev Steel ApS" in web.get("/sme").text
    web.post("/logout", data={"csrf_token": csrf(web, "/account")})
    sign_in(web, "pia")
    assert "Nordlys Robotics ApS" in web.get("/provider").text


def test_sign_in_with_the_email_and_wrong_password(web: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    with unit_of_work(loaded_app.state.session_factory) as session:
        person = people.find_person(session, username="sam")
        assert person is not None
        person.email = "sam@brsteel.example"
    wrong = sign_in(web, "sam", "not the password")
    assert wrong.status_code == 401 and "wrong password" in wrong.text
    assert sign_in(web, "SAM@brsteel.example").headers["location"] == "/sme"


def test_next_is_followed_only_to_a_page_the_role_may_open(web: TestClient, cast: Cast) -> None:
    assert (
        web.get("/review/decisions", follow_redirects=False).headers["location"] == "/login?next=%2Freview%2Fdecisions"
    )
    assert sign_in(web, "cora", next="/review/decisions").headers["location"] == "/review/decisions"
    web.post("/logout", data={"csrf_token": csrf(web, "/account")})
    assert sign_in(web, "sam", next="/review/decisions").headers["location"] == "/sme"
    web.post("/logout", data={"csrf_token": csrf(web, "/account")})
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        assert sign_in(web, "cora", next=evil).headers["location"] == "/review"
        web.post("/logout", data={"csrf_token": csrf(web, "/account")})


def test_the_old_curator_sign_in_redirects(web: TestClient, cast: Cast) -> None:
    response = web.get("/review/login?next=/review/decisions", follow_redirects=False)
    assert response.headers["location"] == "/login?next=%2Freview%2Fdecisions"


def test_an_sme_member_sees_only_its_company(web: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    sign_in(web, "sam")
    own = web.get(f"/sme/companies/{cast.company_id}")
    assert own.status_code == 200 and "Brønderslev Steel ApS" in own.text
    with unit_of_work(loaded_app.state.session_factory) as session:
        titles = list(session.scalars(select(Need.title).where(Need.company_id == cast.company_id)))
    assert titles and all(title in own.text for title in titles)
    other = web.get(f"/sme/companies/{cast.other_company_id}")
    assert other.status_code == 403 and "another company" in other.text and "Hobro" not in other.text
    assert web.get(f"/sme/companies/{cast.north_company_id}").status_code == 404  # another tenant's
    for page in (
        "/review",
        "/facilitator",
        "/provider",
        f"/provider/providers/{cast.provider_id}",
        "/people/invitations",
    ):
        assert web.get(page).status_code == 403, page


def test_a_provider_member_sees_only_its_offerings_and_released_leads(
    web: TestClient, loaded_app: FastAPI, cast: Cast
) -> None:
    with unit_of_work(loaded_app.state.session_factory) as session:
        own = list(session.scalars(select(Technology).where(Technology.provider_id == cast.provider_id)))
        other = session.scalars(select(Technology).where(Technology.provider_id == cast.other_provider_id)).first()
        needs = list(session.scalars(select(Need).order_by(Need.id)))
        assert other is not None and len(needs) >= 3
        north_need = Need(tenant="north", company_id=cast.north_company_id, title="North tenant's secret need")
        session.add(north_need)
        session.flush()
        rows = [
            (needs[0], own[0], MatchStatus.approved),  # released
            (needs[1], own[0], MatchStatus.proposed),  # not yet
            (needs[2], other, MatchStatus.approved),  # another provider's
            (north_need, own[0], MatchStatus.approved),  # another tenant's need
        ]
        for rank, (need, technology, status) in enumerate(rows):
            session.add(
                Match(need_id=need.id, technology_id=technology.id, score=0.5, rank=rank, components={}, status=status)
            )
        released, pending, others = needs[0].title, needs[1].title, needs[2].title
    sign_in(web, "pia")
    page = web.get(f"/provider/providers/{cast.provider_id}").text
    assert all(technology.title in page for technology in own) and other.title not in page
    assert released in page
    assert pending not in page and others not in page and "secret need" not in page
    refused = web.get(f"/provider/providers/{cast.other_provider_id}")
    assert refused.status_code == 403 and "another provider" in refused.text
    assert web.get(f"/sme/companies/{cast.company_id}").status_code == 403


def test_staff_see_every_company_and_provider_of_their_tenant(web: TestClient, cast: Cast) -> None:
    sign_in(web, "fay")
    home = web.get("/facilitator").text
    assert "Brønderslev Steel ApS" in home and "Visionik A/S" in home and "North Fabrication" not in home
    assert web.get(f"/sme/companies/{cast.other_company_id}").status_code == 200
    assert web.get(f"/provider/providers/{cast.other_provider_id}").status_code == 200
    assert web.get(f"/sme/companies/{cast.north_company_id}").status_code == 404
    assert web.get("/review").status_code == 403  # reviewing is the curators'


# Sessions end on the server


def _copy_cookies(client: TestClient) -> dict[str, str]:
    return dict(client.cookies.items())


def _works(app: FastAPI, cookies: dict[str, str]) -> bool:
    """Whether another browser holding these cookies is signed in (a client of the started app: no start)."""
    other = TestClient(app, cookies=cookies)
    return other.get("/account", follow_redirects=False).status_code == 200


def test_a_cookie_copied_before_sign_out_no_longer_works(web: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    sign_in(web, "cora")
    copied = _copy_cookies(web)
    assert _works(loaded_app, copied)
    assert web.post("/logout", data={"csrf_token": csrf(web, "/account")}, follow_redirects=False).status_code == 303
    assert not _works(loaded_app, copied)


def test_a_password_change_ends_the_other_sessions(web: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    sign_in(web, "sam")
    copied = _copy_cookies(web)
    second = TestClient(loaded_app)  # a second browser on the server `web` started
    sign_in(second, "sam")
    token = csrf(second, "/account")
    differ = second.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "a new passphrase",
            "new_password_again": "x",
        },
    )
    assert differ.status_code == 422 and "differ" in differ.text
    wrong = second.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": "not it at all",
            "new_password": "a new passphrase",
            "new_password_again": "a new passphrase",
        },
    )
    assert wrong.status_code == 422 and _works(loaded_app, copied)
    changed = second.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "a new passphrase",
            "new_password_again": "a new passphrase",
        },
    )
    assert changed.status_code == 200 and "Password changed" in changed.text
    assert second.get("/account").status_code == 200  # the browser that changed it stays signed in
    assert not _works(loaded_app, copied)
    assert sign_in(web, "sam").status_code == 401
    assert sign_in(web, "sam", "a new passphrase").status_code == 303


def test_a_reset_or_disabling_ends_every_session(web: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    sign_in(web, "pia")
    copied = _copy_cookies(web)
    with unit_of_work(loaded_app.state.session_factory) as session:
        people.set_password(session, username="pia", password="reset by the admin")
    assert not _works(loaded_app, copied)
    sign_in(web, "pia", "reset by the admin")
    copied = _copy_cookies(web)
    with unit_of_work(loaded_app.state.session_factory) as session:
        people.set_active(session, username="pia", active=False)
        person = people.find_person(session, username="pia")
        assert person is not None and people.session_count(session, person_id=person.id) == 0
    assert not _works(loaded_app, copied)
    assert sign_in(web, "pia", "reset by the admin").status_code == 401


def test_an_expired_session_does_not_work(web: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    sign_in(web, "cora")
    with unit_of_work(loaded_app.state.session_factory) as session:
        for row in session.scalars(select(WebSession)):
            row.expires_at = row.created_at - timedelta(seconds=1)
    assert web.get("/review", follow_redirects=False).status_code == 303


def test_a_session_cookie_opens_no_api_route(web: TestClient, cast: Cast) -> None:
    sign_in(web, "cora")
    assert web.get("/api/v1/needs").status_code == 401


def _set_cookie(app: FastAPI) -> str:
    with TestClient(app, base_url="https://testserver") as client:
        return client.get("/login").headers["set-cookie"]


def test_production_cookies_are_secure_httponly_and_samesite(loaded_settings: Settings) -> None:
    strong = SecretStr("s" * 40)
    production = create_app(loaded_settings.model_copy(update={"production": True, "secret_key": strong}))
    cookie = _set_cookie(production).lower()
    assert cookie.startswith("__host-techmatch_session=")
    assert "; secure" in cookie and "; httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    development = _set_cookie(create_app(loaded_settings)).lower()
    assert "; httponly" in development and "samesite=lax" in development and "; secure" not in development


def test_production_refuses_cookies_over_plain_http() -> None:
    with pytest.raises(ValidationError, match="only over HTTPS"):
        Settings(_env_file=None, production=True, secret_key="s" * 40, secure_cookies=False)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(_env_file=None, production=True)  # type: ignore[call-arg]
    settings = Settings(_env_file=None, production=True, secret_key="s" * 40)  # type: ignore[call-arg]
    assert settings.cookies_secure


# Invitations


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, _Inbox]]:
    """A local SMTP receiver on 127.0.0.1 that keeps what it is sent."""
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()


@pytest.fixture
def mailing_web(loaded_settings: Settings, smtp: tuple[int, _Inbox]) -> Iterator[tuple[TestClient, FastAPI, Cast]]:
    port, _ = smtp
    settings = loaded_settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": "none",
            "smtp_from": "hub@cluster.example",
        }
    )
    app = create_app(settings)
    cast = create_cast(app)
    with TestClient(app) as client:
        yield client, app, cast
    app.state.engine.dispose()


def _invite(client: TestClient, **fields: str) -> Any:
    return client.post("/people/invitations", data={"csrf_token": csrf(client, "/people/invitations"), **fields})


def _accept(
    client: TestClient, path: str, *, username: str, password: str = "member passphrase", again: str | None = None
) -> Any:
    token = csrf(client, path) if client.get(path).status_code == 200 else csrf(client)
    return client.post(
        path,
        data={"csrf_token": token, "username": username, "password": password, "password_again": again or password},
        follow_redirects=False,
    )


def test_staff_invite_an_sme_member_who_accepts_once(
    mailing_web: tuple[TestClient, FastAPI, Cast], smtp: tuple[int, _Inbox]
) -> None:
    client, app, cast = mailing_web
    _, inbox = smtp
    sign_in(client, "fay")
    created = _invite(client, role="sme", company_id=str(cast.company_id), email="New.Member@BRsteel.example")
    assert created.status_code == 201, created.text
    link = _LINK.search(created.text)
    assert link is not None and "e-mailed to new.member@brsteel.example" in created.text
    url = link.group(1)
    assert url.startswith("http://testserver/invitations/")
    token = url.rsplit("/", 1)[1]

    # The e-mail carries the same link; the database only a hash of its token.
    assert len(inbox.messages) == 1
    envelope = inbox.messages[0]
    assert envelope.rcpt_tos == ["new.member@brsteel.example"] and envelope.mail_from == "hub@cluster.example"
    body = message_from_bytes(envelope.content).get_payload(decode=True).decode()
    assert url in body and "Brønderslev Steel ApS" in body
    with unit_of_work(app.state.session_factory) as session:
        stored = session.scalars(select(Invitation)).one()
        assert token not in (stored.token_hash, stored.email) and len(stored.token_hash) == 64
        assert (stored.role, stored.company_id, stored.invited_by) == (Role.sme, cast.company_id, "fay")

    client.post("/logout", data={"csrf_token": csrf(client, "/account")})
    path = f"/invitations/{token}"
    page = client.get(path)
    assert page.status_code == 200 and "Brønderslev Steel ApS" in page.text
    assert _accept(client, path, username="ny", again="something else").status_code == 422
    accepted = _accept(client, path, username="ny")
    assert accepted.status_code == 303 and accepted.headers["location"] == "/login?username=ny"
    with unit_of_work(app.state.session_factory) as session:
        person = people.find_person(session, username="ny")
        assert person is not None
        assert (person.role, person.company_id, person.tenant, person.email) == (
            Role.sme,
            cast.company_id,
            "default",
            "new.member@brsteel.example",
        )
    assert client.get(path).status_code == 404  # single use
    assert _accept(client, path, username="another").status_code == 404
    assert sign_in(client, "ny", "member passphrase").headers["location"] == "/sme"
    assert client.get(f"/sme/companies/{cast.other_company_id}").status_code == 403


def test_an_invitation_expires(web: TestClient, loaded_app: FastAPI, cast: Cast) -> None:
    sign_in(web, "cora")
    created = _invite(web, role="provider", provider_id=str(cast.provider_id))
    assert created.status_code == 201 and "was e-mailed" not in created.text  # no SMTP server set
    link = _LINK.search(created.text)
    assert link is not None
    path = "/invitations/" + link.group(1).rsplit("/", 1)[1]
    with unit_of_work(loaded_app.state.session_factory) as session:
        invitation = session.scalars(select(Invitation)).one()
        invitation.expires_at = invitation.created_at - timedelta(seconds=1)
    assert web.get(path).status_code == 404
    assert "expired" in web.get("/people/invitations").text


def test_an_invitation_must_fit_the_role_and_the_tenant(web: TestClient, cast: Cast) -> None:
    sign_in(web, "cora")
    assert _invite(web, role="sme").status_code == 422  # no company
    assert _invite(web, role="sme", company_id=str(cast.north_company_id)).status_code == 422  # another tenant's
    assert _invite(web, role="provider", company_id=str(cast.company_id)).status_code == 422
    assert _invite(web, role="owner").status_code == 422
    staff = _invite(web, role="facilitator", company_id=str(cast.company_id))  # the company is not read for staff
    assert staff.status_code == 201


def test_members_cannot_invite(web: TestClient, cast: Cast) -> None:
    sign_in(web, "sam")
    response = web.post("/people/invitations", data={"csrf_token": csrf(web, "/account"), "role": "sme"})
    assert response.status_code == 403


def test_a_failing_mail_server_is_said_and_the_link_still_shown(loaded_settings: Settings) -> None:
    settings = loaded_settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": free_port(), "smtp_security": "none", "smtp_timeout_seconds": 2}
    )
    app = create_app(settings)
    cast = create_cast(app)
    with TestClient(app) as client:
        sign_in(client, "cora")
        created = _invite(client, role="sme", company_id=str(cast.company_id), email="x@example.org")
        assert created.status_code == 201 and "could not be sent" in created.text
        assert _LINK.search(created.text) is not None
    app.state.engine.dispose()


def test_people_rows_keep_no_password_in_clear(loaded_app: FastAPI, cast: Cast) -> None:
    with unit_of_work(loaded_app.state.session_factory) as session:
        for person in session.scalars(select(Person)):
            assert person.password_hash.startswith("$argon2id$") and PASSWORD not in person.password_hash
