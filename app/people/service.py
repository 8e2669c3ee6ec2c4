"""People: accounts with a role, sign-in (throttled, argon2id), server-side sessions and invitations."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.core.errors import AppError, Conflict, NotFound, ValidationProblem
from app.core.settings import Settings
from app.models import STAFF_ROLES, Company, Invitation, Person, Provider, Role, WebSession, utcnow
from app.people import mail
from app.people.passwords import Passwords
from app.people.repository import InvitationRepository, PersonRepository, WebSessionRepository
from app.people.throttle import SignInThrottle, SignInThrottled

__all__ = ["SignInFailed", "SignInThrottled"]

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,99}$")
_TENANT = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MAX_EMAIL_CHARS = 320

# What people read, in one place (the pages show these details as they are).
WRONG_CREDENTIALS = "Unknown username or wrong password."
INVALID_INVITATION = "This invitation link is not valid: it is unknown, already used or expired."


class SignInFailed(AppError):
    status = 401


class InvitationInvalid(AppError):
    status = 404

    def __init__(self) -> None:
        super().__init__(INVALID_INVITATION)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _passwords(passwords: Passwords | None) -> Passwords:
    # The CLI and tests hash one password at a time; the server passes its bounded instance.
    return passwords or Passwords()


# Accounts


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValidationProblem.field(("password",), f"at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise ValidationProblem.field(("password",), f"at most {MAX_PASSWORD_CHARS} characters")


def _check_username(username: str) -> None:
    if not _USERNAME.match(username):
        raise ValidationProblem.field(("username",), "2-100 characters: letters, digits, '.', '_', '@', '-'")


def _check_tenant(tenant: str) -> None:
    if not _TENANT.match(tenant):
        raise ValidationProblem.field(("tenant",), "a slug: lower-case letters, digits and '-'")


def _email(email: str | None) -> str | None:
    if email is None or not email.strip():
        return None
    email = email.strip().lower()
    if len(email) > MAX_EMAIL_CHARS or not _EMAIL.match(email):
        raise ValidationProblem.field(("email",), "an e-mail address such as name@example.org")
    return email


def _binding(
    session: Session, *, role: Role, tenant: str, company_id: int | None, provider_id: int | None
) -> tuple[int | None, int | None]:
    """The (company_id, provider_id) a role needs: an SME member a company of the tenant, a provider member a
    provider of the tenant, staff neither."""
    repository = PersonRepository(session)
    if role is Role.sme:
        if company_id is None or repository.company(company_id, tenant=tenant) is None:
            raise ValidationProblem.field(("company_id",), f"an SME member needs a company of tenant {tenant!r}")
        return company_id, None
    if role is Role.provider:
        if provider_id is None or repository.provider(provider_id, tenant=tenant) is None:
            raise ValidationProblem.field(("provider_id",), f"a provider member needs a provider of tenant {tenant!r}")
        return None, provider_id
    if company_id is not None or provider_id is not None:
        raise ValidationProblem.field(("role",), "staff belong to no company or provider")
    return None, None


def create_person(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    tenant: str,
    company_id: int | None = None,
    provider_id: int | None = None,
    email: str | None = None,
    passwords: Passwords | None = None,
) -> Person:
    _check_username(username)
    _check_tenant(tenant)
    email = _email(email)
    check_password(password)
    company_id, provider_id = _binding(
        session, role=role, tenant=tenant, company_id=company_id, provider_id=provider_id
    )
    repository = PersonRepository(session)
    if repository.name_taken(username):
        raise Conflict(f"a person named {username!r} exists")
    if email is not None and repository.name_taken(email):
        raise Conflict("that e-mail address is in use")
    return repository.add(
        Person(
            username=username,
            email=email,
            role=role,
            tenant=tenant,
            company_id=company_id,
            provider_id=provider_id,
            password_hash=_passwords(passwords).hash(password),
        )
    )


def create_curator(
    session: Session, *, username: str, password: str, tenant: str, passwords: Passwords | None = None
) -> Person:
    return create_person(
        session, username=username, password=password, role=Role.curator, tenant=tenant, passwords=passwords
    )


def find_person(session: Session, *, username: str, role: Role | None = None) -> Person | None:
    person = PersonRepository(session).by_username(username)
    return person if person is not None and (role is None or person.role is role) else None


def find_curator(session: Session, *, username: str) -> Person | None:
    return find_person(session, username=username, role=Role.curator)


def _existing(session: Session, username: str, role: Role | None) -> Person:
    person = find_person(session, username=username, role=role)
    if person is None:
        raise NotFound(f"no {role.value if role else 'person'} {username!r}")
    return person


def list_people(session: Session, *, tenant: str | None = None, role: Role | None = None) -> list[Person]:
    return PersonRepository(session).find(tenant=tenant, role=role)


def list_curators(session: Session) -> list[Person]:
    return list_people(session, role=Role.curator)


def set_active(session: Session, *, username: str, active: bool, role: Role | None = None) -> Person:
    """Enables or disables an account; disabling ends every session of it at once."""
    person = _existing(session, username, role)
    person.active = active
    if not active:
        WebSessionRepository(session).delete_of(person.id)
    session.flush()
    return person


def set_password(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role | None = None,
    passwords: Passwords | None = None,
) -> Person:
    """A new password (the CLI's reset); every session of the account ends."""
    person = _existing(session, username, role)
    check_password(password)
    person.password_hash = _passwords(passwords).hash(password)
    WebSessionRepository(session).delete_of(person.id)
    session.flush()
    return person


def change_password(
    session: Session, *, person: Person, current: str, new: str, keeping_token: str | None, passwords: Passwords
) -> None:
    """The signed-in person's own change: needs the current password; ends every other session."""
    if not passwords.verify(person.password_hash, current[:MAX_PASSWORD_CHARS]):
        raise ValidationProblem.field(("current_password",), "not your current password")
    check_password(new)
    person.password_hash = passwords.hash(new)
    WebSessionRepository(session).delete_of(person.id, keeping=_digest(keeping_token) if keeping_token else None)
    session.flush()


def authenticate(
    session: Session, *, username: str, password: str, passwords: Passwords | None = None
) -> Person | None:
    """The active person with this username (or e-mail) and password, or None; upgrades an outdated hash.

    Unthrottled: the CLI's check and the tests. Web sign-in goes through `sign_in`."""
    passwords = _passwords(passwords)
    person = PersonRepository(session).by_identifier(username) if username else None
    if person is None or len(password) > MAX_PASSWORD_CHARS:
        passwords.verify_nobody(password[:MAX_PASSWORD_CHARS])
        return None
    if not passwords.verify(person.password_hash, password) or not person.active:
        return None
    if passwords.needs_rehash(person.password_hash):
        person.password_hash = passwords.hash(password)
    person.last_login_at = utcnow()
    session.flush()
    return person


def sign_in(
    session: Session,
    *,
    identifier: str,
    password: str,
    address: str,
    throttle: SignInThrottle,
    passwords: Passwords,
) -> Person:
    """The person, or SignInFailed (401), or SignInThrottled (429) while the account or the address is
    locked: then no password is checked, the right one neither."""
    identifier = identifier.strip()
    person = PersonRepository(session).by_identifier(identifier) if identifier else None
    # Keyed by the person when there is one, so its username and its e-mail share one count.
    account = f"person:{person.id}" if person is not None else f"name:{identifier.casefold()}"
    throttle.check(account=account, address=address)
    if not identifier or not password:
        raise SignInFailed(WRONG_CREDENTIALS)
    signed_in = authenticate(session, username=identifier, password=password, passwords=passwords)
    if signed_in is None:
        wait = throttle.failed(account=account, address=address)
        if wait:
            raise SignInThrottled(wait)
        raise SignInFailed(WRONG_CREDENTIALS)
    throttle.succeeded(account=account)
    return signed_in


# Sessions


def start_session(session: Session, *, person: Person, max_age: int) -> str:
    """A new session for `person`; returns the token for its cookie (only its hash is stored)."""
    now = utcnow()
    repository = WebSessionRepository(session)
    repository.delete_expired(now=now)
    token = secrets.token_urlsafe(32)
    repository.add(
        WebSession(person_id=person.id, token_hash=_digest(token), expires_at=now + timedelta(seconds=max_age))
    )
    return token


def session_person(session: Session, *, token: str) -> Person | None:
    """The active person of an unexpired, not ended session."""
    return WebSessionRepository(session).person_of(_digest(token), now=utcnow())


def end_session(session: Session, *, token: str) -> None:
    WebSessionRepository(session).delete(_digest(token))


def session_count(session: Session, *, person_id: int) -> int:
    return WebSessionRepository(session).count_of(person_id)


# Invitations


@dataclass(frozen=True, slots=True)
class NewInvitation:
    invitation: Invitation
    token: str  # shown once; only its SHA-256 is stored

    def link(self, base_url: str) -> str:
        return invitation_link(base_url, self.token)


def invitation_link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/invitations/{token}"


def can_invite(person: Person) -> bool:
    return person.active and person.role in STAFF_ROLES


def invite(
    session: Session,
    *,
    tenant: str,
    role: Role,
    invited_by: str,
    days: int,
    company_id: int | None = None,
    provider_id: int | None = None,
    email: str | None = None,
) -> NewInvitation:
    """A single-use link for someone to become a person of `role` in `tenant`, valid for `days`."""
    _check_tenant(tenant)
    company_id, provider_id = _binding(
        session, role=role, tenant=tenant, company_id=company_id, provider_id=provider_id
    )
    token = secrets.token_urlsafe(32)
    invitation = InvitationRepository(session).add(
        Invitation(
            tenant=tenant,
            role=role,
            company_id=company_id,
            provider_id=provider_id,
            email=_email(email),
            token_hash=_digest(token),
            invited_by=invited_by,
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    return NewInvitation(invitation=invitation, token=token)


def open_invitation(session: Session, *, token: str, now: datetime | None = None) -> Invitation:
    """The invitation of a link, while it is unused and unexpired; InvitationInvalid (404) otherwise."""
    invitation = InvitationRepository(session).by_token_hash(_digest(token)) if token else None
    if invitation is None or invitation.accepted_at is not None or invitation.expires_at <= (now or utcnow()):
        raise InvitationInvalid()
    return invitation


def accept_invitation(
    session: Session,
    *,
    token: str,
    username: str,
    password: str,
    email: str | None,
    passwords: Passwords | None = None,
) -> Person:
    """The invited person, with the chosen username and password; the link is spent."""
    invitation = open_invitation(session, token=token)
    person = create_person(
        session,
        username=username.strip(),
        password=password,
        role=invitation.role,
        tenant=invitation.tenant,
        company_id=invitation.company_id,
        provider_id=invitation.provider_id,
        email=email if email and email.strip() else invitation.email,
        passwords=passwords,
    )
    # Checked and set in one UPDATE: of two acceptances at once, one wins and the other rolls back.
    if not InvitationRepository(session).claim(invitation.id, now=utcnow()):
        raise InvitationInvalid()
    session.refresh(invitation)
    invitation.person_id = person.id
    session.flush()
    return person


def recent_invitations(session: Session, *, tenant: str, limit: int = 50) -> list[Invitation]:
    return InvitationRepository(session).recent(tenant=tenant, limit=limit)


def invitation_state(invitation: Invitation, *, now: datetime | None = None) -> str:
    if invitation.accepted_at is not None:
        return "accepted"
    return "expired" if invitation.expires_at <= (now or utcnow()) else "open"


# What pages and commands show


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip())
    except ValueError:
        raise ValidationProblem.field(("role",), f"one of {', '.join(role.value for role in Role)}") from None


def parse_id(value: str, field: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise ValidationProblem.field((field,), "an id")
    return int(value)


def companies_of(session: Session, *, tenant: str) -> list[Company]:
    return PersonRepository(session).companies(tenant=tenant)


def providers_of(session: Session, *, tenant: str) -> list[Provider]:
    return PersonRepository(session).providers(tenant=tenant)


def _bound_name(session: Session, *, tenant: str, company_id: int | None, provider_id: int | None) -> str | None:
    repository = PersonRepository(session)
    if company_id is not None:
        company = repository.company(company_id, tenant=tenant)
        return company.name if company is not None else None
    if provider_id is not None:
        provider = repository.provider(provider_id, tenant=tenant)
        return provider.name if provider is not None else None
    return None


def bound_to(session: Session, person: Person) -> str | None:
    """The name of a member's company or provider (None for staff)."""
    return _bound_name(session, tenant=person.tenant, company_id=person.company_id, provider_id=person.provider_id)


def invitation_bound_to(session: Session, invitation: Invitation) -> str | None:
    return _bound_name(
        session, tenant=invitation.tenant, company_id=invitation.company_id, provider_id=invitation.provider_id
    )


def resolve_company(session: Session, *, tenant: str, value: str | None) -> int | None:
    """A company of the tenant by id or ref (the CLI's --company)."""
    if value is None:
        return None
    repository = PersonRepository(session)
    company = repository.company(int(value), tenant=tenant) if value.isdigit() else None
    company = company or repository.company_by_ref(value, tenant=tenant)
    if company is None:
        raise NotFound(f"no company {value!r} in tenant {tenant!r}")
    return company.id


def resolve_provider(session: Session, *, tenant: str, value: str | None) -> int | None:
    """A provider of the tenant by id or ref (the CLI's --provider)."""
    if value is None:
        return None
    repository = PersonRepository(session)
    provider = repository.provider(int(value), tenant=tenant) if value.isdigit() else None
    provider = provider or repository.provider_by_ref(value, tenant=tenant)
    if provider is None:
        raise NotFound(f"no provider {value!r} in tenant {tenant!r}")
    return provider.id


def mail_invitation(
    *,
    settings: Settings,
    session: Session,
    created: NewInvitation,
    link: str,
    inviter: Person | str,
    language: str = "en",
) -> None:
    """E-mails the link to the invitation's address, in `language` (MailFailed when the server refuses)."""
    invitation = created.invitation
    assert invitation.email is not None
    message = mail.invitation_message(
        settings=settings,
        to=invitation.email,
        link=link,
        inviter=inviter if isinstance(inviter, str) else inviter.username,
        role=invitation.role.value,
        bound_to=invitation_bound_to(session, invitation),
        expires=invitation.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
        language=language,
    )
    mail.send(settings, message)


# The pages' languages (app.web.i18n.LANGUAGES; people does not import the web layer).
PAGE_LANGUAGES = ("en", "da")
UNKNOWN_LANGUAGE = "The pages are in English or Danish only."


def set_language(session: Session, *, person: Person, language: str) -> None:
    """Stores the language a person reads the pages in."""
    if language not in PAGE_LANGUAGES:
        raise ValidationProblem.field(("body", "language"), UNKNOWN_LANGUAGE)
    person.language = language
    session.flush()
