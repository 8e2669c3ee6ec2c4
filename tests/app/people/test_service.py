"""People's rules: each role bound to exactly its company or provider (by the service and by the database),
names unique across username and e-mail, invitations spent once, sessions that end."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from app.core.database import unit_of_work
from app.core.errors import Conflict, Forbidden, NotFound, ValidationProblem
from app.models import Person, Role
from app.people import access
from app.people import service as people
from tests.app.people.conftest import PASSWORD, Cast


def _row(**values: object) -> dict[str, object]:
    from app.models import utcnow

    return {"tenant": "default", "password_hash": "x", "active": True, "created_at": utcnow(), **values}


@pytest.mark.parametrize(
    ("role", "company", "provider"),
    [
        ("curator", True, False),
        ("facilitator", False, True),
        ("sme", False, False),
        ("sme", True, True),
        ("provider", False, False),
        ("provider", True, True),
        ("owner", False, False),
    ],
)
def test_the_database_refuses_a_role_without_exactly_its_binding(
    loaded_app: FastAPI, cast: Cast, role: str, company: bool, provider: bool
) -> None:
    values = _row(
        username=f"x-{role}",
        role=role,
        company_id=cast.company_id if company else None,
        provider_id=cast.provider_id if provider else None,
    )
    columns = ", ".join(values)
    with pytest.raises(IntegrityError), unit_of_work(loaded_app.state.session_factory) as session:
        # Plain SQL, around the ORM and its enum type (which would refuse "owner" itself): the CHECK is tested.
        session.execute(text(f"INSERT INTO people ({columns}) VALUES ({', '.join(':' + c for c in values)})"), values)


def test_the_database_accepts_each_role_with_its_binding(loaded_app: FastAPI, cast: Cast) -> None:
    with unit_of_work(loaded_app.state.session_factory) as session:
        session.execute(insert(Person.__table__).values(**_row(username="c2", role="curator")))
        session.execute(insert(Person.__table__).values(**_row(username="s2", role="sme", company_id=cast.company_id)))
        session.execute(
            insert(Person.__table__).values(**_row(username="p2", role="provider", provider_id=cast.provider_id))
        )


def test_the_service_checks_the_binding_and_the_tenant(loaded_app: FastAPI, cast: Cast) -> None:
    with unit_of_work(loaded_app.state.session_factory) as session:
        create = {"password": PASSWORD, "tenant": "default"}
        with pytest.raises(ValidationProblem, match="company"):
            people.create_person(session, username="a1", role=Role.sme, **create)
        with pytest.raises(ValidationProblem, match="company"):
            people.create_person(session, username="a2", role=Role.sme, company_id=cast.north_company_id, **create)
        with pytest.raises(ValidationProblem, match="staff"):
            people.create_person(session, username="a3", role=Role.curator, company_id=cast.company_id, **create)
        with pytest.raises(ValidationProblem, match="provider"):
            people.create_person(session, username="a4", role=Role.provider, company_id=cast.company_id, **create)
        with pytest.raises(ValidationProblem, match="e-mail"):
            people.create_person(session, username="a5", role=Role.curator, email="not an address", **create)


def test_usernames_and_emails_are_unique_together(loaded_app: FastAPI, cast: Cast) -> None:
    with unit_of_work(loaded_app.state.session_factory) as session:
        people.create_person(
            session, username="ole", role=Role.curator, tenant="north", password=PASSWORD, email="Ole@X.example"
        )
        with pytest.raises(Conflict, match="exists"):
            people.create_person(session, username="ole", role=Role.curator, tenant="default", password=PASSWORD)
        with pytest.raises(Conflict, match="e-mail"):
            people.create_person(
                session, username="ole2", role=Role.curator, tenant="default", password=PASSWORD, email="ole@x.example"
            )
        with pytest.raises(Conflict):  # a username that is someone's e-mail would sign in as either
            people.create_person(session, username="ole@x.example", role=Role.curator, tenant="x", password=PASSWORD)


def test_scoping_helpers(loaded_app: FastAPI, cast: Cast) -> None:
    with unit_of_work(loaded_app.state.session_factory) as session:
        sme = people.find_person(session, username="sam")
        provider = people.find_person(session, username="pia")
        staff = people.find_person(session, username="fay")
        assert sme is not None and provider is not None and staff is not None
        assert access.visible_company_ids(sme) == {cast.company_id}
        assert access.visible_company_ids(provider) == frozenset()
        assert access.visible_company_ids(staff) is None
        assert access.visible_provider_ids(provider) == {cast.provider_id}
        assert access.company_for(session, sme, cast.company_id).id == cast.company_id
        with pytest.raises(Forbidden):
            access.company_for(session, sme, cast.other_company_id)
        with pytest.raises(NotFound):
            access.company_for(session, staff, cast.north_company_id)
        with pytest.raises(Forbidden):
            access.provider_for(session, sme, cast.provider_id)
        assert access.provider_for(session, staff, cast.other_provider_id).id == cast.other_provider_id


def test_an_invitation_is_spent_once(loaded_app: FastAPI, cast: Cast) -> None:
    with unit_of_work(loaded_app.state.session_factory) as session:
        created = people.invite(
            session, tenant="default", role=Role.provider, provider_id=cast.provider_id, invited_by="fay", days=7
        )
        token = created.token
    with unit_of_work(loaded_app.state.session_factory) as session:
        person = people.accept_invitation(session, token=token, username="newbie", password=PASSWORD, email=None)
        assert (person.role, person.provider_id) == (Role.provider, cast.provider_id)
    with pytest.raises(people.InvitationInvalid), unit_of_work(loaded_app.state.session_factory) as session:
        people.accept_invitation(session, token=token, username="second", password=PASSWORD, email=None)
    with pytest.raises(people.InvitationInvalid), unit_of_work(loaded_app.state.session_factory) as session:
        people.open_invitation(session, token="")


def test_sessions_end_by_token_and_by_person(loaded_app: FastAPI, cast: Cast) -> None:
    with unit_of_work(loaded_app.state.session_factory) as session:
        cora = people.find_person(session, username="cora")
        assert cora is not None
        first = people.start_session(session, person=cora, max_age=60)
        second = people.start_session(session, person=cora, max_age=60)
        assert people.session_person(session, token=first) is cora
        people.end_session(session, token=first)
        assert people.session_person(session, token=first) is None
        assert people.session_person(session, token=second) is cora
        people.set_active(session, username="cora", active=False)
        assert people.session_person(session, token=second) is None
        assert people.session_count(session, person_id=cora.id) == 0
