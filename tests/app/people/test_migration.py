"""Migration 0006: every curator account stays, with its id, hash and state, as a person with the curator role;
going back keeps the curators and drops the rest."""

from __future__ import annotations

from sqlalchemy import text

from app.core.database import create_db_engine, create_session_factory, unit_of_work
from app.core.migrations import downgrade, upgrade
from app.models import Role
from app.people import service as people
from app.people.passwords import Passwords

PEOPLE_REVISION = "0006"
BEFORE = "0005"


def test_curators_become_people_with_the_curator_role(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        downgrade(engine, revision=BEFORE)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO curators (id, tenant, username, password_hash, active, created_at, last_login_at) "
                    "VALUES (7, 'north', 'mette', :hash, true, CURRENT_TIMESTAMP, NULL), "
                    "(9, 'default', 'ole', :hash, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"hash": Passwords().hash("a long passphrase")},
            )
        upgrade(engine, revision=PEOPLE_REVISION)
        # The ORM reads today's schema; the later revisions keep the copied rows as they are.
        upgrade(engine)
        with unit_of_work(create_session_factory(engine)) as session:
            mette = people.find_person(session, username="mette")
            ole = people.find_person(session, username="ole")
            assert mette is not None and ole is not None
            assert (mette.id, mette.role, mette.tenant, mette.active) == (7, Role.curator, "north", True)
            assert (ole.id, ole.active, ole.company_id, ole.provider_id) == (9, False, None, None)
            assert people.authenticate(session, username="mette", password="a long passphrase") is mette
            # New people get ids past the copied ones (PostgreSQL's sequence was moved on).
            newcomer = people.create_person(
                session, username="fay", password="a long passphrase", role=Role.facilitator, tenant="north"
            )
            assert newcomer.id > 9
        downgrade(engine, revision=BEFORE)
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, username FROM curators ORDER BY id")).all()
        assert [tuple(row) for row in rows] == [(7, "mette"), (9, "ole")]
        upgrade(engine)
    finally:
        engine.dispose()
