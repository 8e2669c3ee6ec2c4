"""API keys: create (the secret is shown once), list, revoke, and check a presented key."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from limits import parse_many
from sqlalchemy.orm import Session

from app.errors import NotFound, ValidationProblem
from app.models import ApiKey, utcnow
from app.repositories import ApiKeyRepository

# Every scope a key may hold; "admin" implies all the others.
SCOPES: tuple[str, ...] = ("needs:write", "matches:read", "catalogue:write", "review", "pairing", "admin")
ADMIN_SCOPE = "admin"

KEY_MARKER = "tm"
PREFIX_BYTES = 6  # 12 hex characters: looked up by index, public, not secret
SECRET_BYTES = 32  # 256 bits from the OS generator: beyond guessing, so one SHA-256 suffices
TENANT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_KEY_PATTERN = re.compile(rf"^{KEY_MARKER}_([0-9a-f]{{{2 * PREFIX_BYTES}}})_([A-Za-z0-9_-]{{20,100}})$")

# last_used_at is written at most this often per key, so reads do not all become writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly created key: `secret` is the whole key, shown to the admin once and never stored."""

    key: ApiKey
    secret: str


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(scopes: Iterable[str]) -> list[str]:
    """Known scopes, deduplicated, in the order of SCOPES; unknown ones are a validation problem."""
    wanted = {scope.strip() for scope in scopes if scope.strip()}
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise ValidationProblem.field(
            ("scopes",), f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(SCOPES)}"
        )
    if not wanted:
        raise ValidationProblem.field(("scopes",), f"at least one scope; known: {', '.join(SCOPES)}")
    return [scope for scope in SCOPES if scope in wanted]


def check_tenant(tenant: str) -> str:
    if not TENANT_PATTERN.match(tenant):
        raise ValidationProblem.field(
            ("tenant",), "a slug of lower-case letters, digits, '-' and '_', at most 64 characters"
        )
    return tenant


def create_key(
    session: Session, *, tenant: str, scopes: Iterable[str], name: str = "", rate_limit: str | None = None
) -> NewKey:
    check_tenant(tenant)
    if rate_limit is not None:
        try:
            parse_many(rate_limit)
        except ValueError as exc:
            raise ValidationProblem.field(("rate_limit",), f"not a rate limit such as '600/minute': {exc}") from exc
    repository = ApiKeyRepository(session)
    # A collision of 48 random bits is unlikely but cheap to rule out.
    while True:
        prefix = secrets.token_hex(PREFIX_BYTES)
        if repository.by_prefix(prefix) is None:
            break
    secret = f"{KEY_MARKER}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    key = repository.add(
        ApiKey(
            tenant=tenant,
            name=name,
            prefix=prefix,
            hash=hash_key(secret),
            scopes=parse_scopes(scopes),
            rate_limit=rate_limit,
        )
    )
    return NewKey(key=key, secret=secret)


def list_keys(session: Session, *, tenant: str | None = None) -> list[ApiKey]:
    return ApiKeyRepository(session).all(tenant=tenant)


def revoke_key(session: Session, *, prefix: str) -> ApiKey:
    """Revokes the key with this prefix (the whole key is accepted too); revoking twice is harmless."""
    match = _KEY_PATTERN.match(prefix)
    if match:
        prefix = match.group(1)
    key = ApiKeyRepository(session).by_prefix(prefix)
    if key is None:
        raise NotFound(f"no API key with prefix {prefix!r}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.flush()
    return key


def authenticate(session: Session, *, presented: str, now: datetime | None = None) -> ApiKey | None:
    """The active key `presented` is, or None: unknown, malformed, wrong secret and revoked look alike."""
    match = _KEY_PATTERN.match(presented)
    if not match:
        return None
    key = ApiKeyRepository(session).by_prefix(match.group(1))
    # Compare digests, not the keys, in constant time: the timing says nothing about the secret.
    if key is None or not hmac.compare_digest(key.hash, hash_key(presented)):
        return None
    if key.revoked_at is not None:
        return None
    now = now or utcnow()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        key.last_used_at = now
        session.flush()
    return key
