"""Curator accounts: create, list, disable, and check a sign-in (argon2id password hashes)."""

from __future__ import annotations

import re
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import Conflict, NotFound, ValidationProblem
from app.models.base import utcnow
from app.models.people import Curator

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,99}$")
_TENANT = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so a failed sign-in costs the same either way;
    made on first use, not at import (the CLI's start-up)."""
    return _hasher.hash("not a password of anyone")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValidationProblem.field(("password",), f"at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise ValidationProblem.field(("password",), f"at most {MAX_PASSWORD_CHARS} characters")


def create_curator(session: Session, *, username: str, password: str, tenant: str) -> Curator:
    if not _USERNAME.match(username):
        raise ValidationProblem.field(("username",), "2-100 characters: letters, digits, '.', '_', '@', '-'")
    if not _TENANT.match(tenant):
        raise ValidationProblem.field(("tenant",), "a slug: lower-case letters, digits and '-'")
    _check_password(password)
    if find_curator(session, username=username) is not None:
        raise Conflict(f"curator {username!r} exists")
    curator = Curator(username=username, tenant=tenant, password_hash=_hasher.hash(password))
    session.add(curator)
    session.flush()
    return curator


def find_curator(session: Session, *, username: str) -> Curator | None:
    return session.scalars(select(Curator).where(Curator.username == username)).first()


def list_curators(session: Session) -> list[Curator]:
    return list(session.scalars(select(Curator).order_by(Curator.tenant, Curator.username)))


def set_active(session: Session, *, username: str, active: bool) -> Curator:
    curator = find_curator(session, username=username)
    if curator is None:
        raise NotFound(f"no curator {username!r}")
    curator.active = active
    session.flush()
    return curator


def set_password(session: Session, *, username: str, password: str) -> Curator:
    curator = find_curator(session, username=username)
    if curator is None:
        raise NotFound(f"no curator {username!r}")
    _check_password(password)
    curator.password_hash = _hasher.hash(password)
    session.flush()
    return curator


def authenticate(session: Session, *, username: str, password: str) -> Curator | None:
    """The active curator with this username and password, or None; upgrades an outdated hash."""
    curator = find_curator(session, username=username)
    if curator is None or len(password) > MAX_PASSWORD_CHARS:
        _verify(_dummy_hash(), password[:MAX_PASSWORD_CHARS])
        return None
    if not _verify(curator.password_hash, password) or not curator.active:
        return None
    if _hasher.check_needs_rehash(curator.password_hash):
        curator.password_hash = _hasher.hash(password)
    curator.last_login_at = utcnow()
    session.flush()
    return curator


def active_curator(session: Session, *, curator_id: int) -> Curator | None:
    """The signed-in curator of a session cookie, unless the account was disabled since."""
    curator = session.get(Curator, curator_id)
    return curator if curator is not None and curator.active else None


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
