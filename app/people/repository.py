"""Queries of people, their web sessions and invitations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from app.models import Company, Invitation, Person, Provider, Role, WebSession


class PersonRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, person_id: int) -> Person | None:
        return self.session.get(Person, person_id)

    def by_username(self, username: str) -> Person | None:
        return self.session.scalars(select(Person).where(Person.username == username)).first()

    def by_identifier(self, identifier: str) -> Person | None:
        """The person whose username is `identifier`, else whose e-mail is (e-mails are stored lower-cased)."""
        return (
            self.by_username(identifier)
            or self.session.scalars(select(Person).where(Person.email == identifier.lower())).first()
        )

    def name_taken(self, name: str) -> bool:
        """Whether `name` is in use as a username or an e-mail (one may sign in with either)."""
        query = (
            select(func.count()).select_from(Person).where(or_(Person.username == name, Person.email == name.lower()))
        )
        return bool(self.session.scalar(query))

    def find(self, *, tenant: str | None = None, role: Role | None = None) -> list[Person]:
        query = select(Person).order_by(Person.tenant, Person.role, Person.username)
        if tenant is not None:
            query = query.where(Person.tenant == tenant)
        if role is not None:
            query = query.where(Person.role == role)
        return list(self.session.scalars(query))

    def add(self, person: Person) -> Person:
        self.session.add(person)
        self.session.flush()
        return person

    def company(self, company_id: int, *, tenant: str) -> Company | None:
        company = self.session.get(Company, company_id)
        return company if company is not None and company.tenant == tenant else None

    def provider(self, provider_id: int, *, tenant: str) -> Provider | None:
        provider = self.session.get(Provider, provider_id)
        return provider if provider is not None and provider.tenant == tenant else None

    def company_by_ref(self, ref: str, *, tenant: str) -> Company | None:
        return self.session.scalars(select(Company).where(Company.tenant == tenant, Company.ref == ref)).first()

    def provider_by_ref(self, ref: str, *, tenant: str) -> Provider | None:
        return self.session.scalars(select(Provider).where(Provider.tenant == tenant, Provider.ref == ref)).first()

    def companies(self, *, tenant: str) -> list[Company]:
        return list(self.session.scalars(select(Company).where(Company.tenant == tenant).order_by(Company.name)))

    def providers(self, *, tenant: str) -> list[Provider]:
        return list(self.session.scalars(select(Provider).where(Provider.tenant == tenant).order_by(Provider.name)))


class WebSessionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: WebSession) -> None:
        self.session.add(row)
        self.session.flush()

    def person_of(self, token_hash: str, *, now: datetime) -> Person | None:
        """The active person of an unexpired session, in one query."""
        query = (
            select(Person)
            .join(WebSession, WebSession.person_id == Person.id)
            .where(WebSession.token_hash == token_hash, WebSession.expires_at > now, Person.active.is_(True))
        )
        return self.session.scalars(query).first()

    def delete(self, token_hash: str) -> None:
        self.session.execute(delete(WebSession).where(WebSession.token_hash == token_hash))

    def delete_of(self, person_id: int, *, keeping: str | None = None) -> int:
        query = delete(WebSession).where(WebSession.person_id == person_id)
        if keeping is not None:
            query = query.where(WebSession.token_hash != keeping)
        return self.session.execute(query).rowcount  # type: ignore[attr-defined]

    def delete_expired(self, *, now: datetime) -> None:
        self.session.execute(delete(WebSession).where(WebSession.expires_at <= now))

    def count_of(self, person_id: int) -> int:
        query = select(func.count()).select_from(WebSession).where(WebSession.person_id == person_id)
        return int(self.session.scalar(query) or 0)


class InvitationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, invitation: Invitation) -> Invitation:
        self.session.add(invitation)
        self.session.flush()
        return invitation

    def by_token_hash(self, token_hash: str) -> Invitation | None:
        return self.session.scalars(select(Invitation).where(Invitation.token_hash == token_hash)).first()

    def recent(self, *, tenant: str, limit: int) -> list[Invitation]:
        query = select(Invitation).where(Invitation.tenant == tenant).order_by(Invitation.id.desc()).limit(limit)
        return list(self.session.scalars(query))

    def claim(self, invitation_id: int, *, now: datetime) -> bool:
        """Marks an open invitation accepted; False when another request was first (single use, also when
        two accept at once: the UPDATE's condition decides)."""
        result = self.session.execute(
            update(Invitation)
            .where(Invitation.id == invitation_id, Invitation.accepted_at.is_(None), Invitation.expires_at > now)
            .values(accepted_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
