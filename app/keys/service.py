"""API keys: create (the secret is shown once), list, revoke, and check a presented key."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.core.errors import NotFound, ValidationProblem
from app.keys.repository import ApiKeyRepository
from app.keys.scopes import PUBLISHABLE_SCOPE, SCOPES
from app.models.base import utcnow
from app.models.keys import ApiKey

KEY_MARKER = "tm"
PUBLISHABLE_MARKER = "pk"  # a publishable key says so: it is meant to be seen
PREFIX_BYTES = 6  # 12 hex characters: looked up by index, public, not secret
SECRET_BYTES = 32  # 256 bits from the OS generator: beyond guessing, so one SHA-256 suffices
TENANT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_KEY_PATTERN = re.compile(
    rf"^(?:{KEY_MARKER}|{PUBLISHABLE_MARKER})_([0-9a-f]{{{2 * PREFIX_BYTES}}})_([A-Za-z0-9_-]{{20,100}})$"
)
# An origin as a browser sends it: scheme, host and an optional port, nothing else.
_ORIGIN_PATTERN = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$")
MAX_ORIGINS = 20

# last_used_at is written at most this often per key, so reads do not all become writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)

logger = logging.getLogger(__name__)


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
        raise ValidationProblem.field(("scopes",), f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(SCOPES)}")
    if not wanted:
        raise ValidationProblem.field(("scopes",), f"at least one scope; known: {', '.join(SCOPES)}")
    return [scope for scope in SCOPES if scope in wanted]


def check_tenant(tenant: str) -> str:
    if not TENANT_PATTERN.match(tenant):
        raise ValidationProblem.field(
            ("tenant",), "a slug of lower-case letters, digits, '-' and '_', at most 64 characters"
        )
    return tenant


def parse_origins(origins: Iterable[str]) -> list[str]:
    """Web origins such as 'https://cluster.example', lower-cased, deduplicated, without a trailing slash."""
    parsed = list(dict.fromkeys(origin.strip().rstrip("/").lower() for origin in origins if origin.strip()))
    wrong = [origin for origin in parsed if not _ORIGIN_PATTERN.match(origin)]
    if wrong:
        raise ValidationProblem.field(
            ("origins",), f"not an origin such as 'https://cluster.example': {', '.join(wrong)}"
        )
    if not parsed or len(parsed) > MAX_ORIGINS:
        raise ValidationProblem.field(("origins",), f"between 1 and {MAX_ORIGINS} origins")
    return parsed


def _check_rate_limit(rate_limit: str | None) -> None:
    if rate_limit is None:
        return
    try:
        from limits import parse_many  # imported when a key has its own limit (CLI start-up)

        parse_many(rate_limit)
    except ValueError as exc:
        raise ValidationProblem.field(("rate_limit",), f"not a rate limit such as '600/minute': {exc}") from exc


def create_key(
    session: Session, *, tenant: str, scopes: Iterable[str], name: str = "", rate_limit: str | None = None
) -> NewKey:
    check_tenant(tenant)
    _check_rate_limit(rate_limit)
    return _add(
        session, marker=KEY_MARKER, tenant=tenant, scopes=parse_scopes(scopes), name=name, rate_limit=rate_limit
    )


def create_publishable_key(
    session: Session, *, tenant: str, origins: Iterable[str], name: str = "", rate_limit: str | None = None
) -> NewKey:
    """A key for the widget: it may only submit needs, from pages of `origins`; its limit counts submissions."""
    check_tenant(tenant)
    _check_rate_limit(rate_limit)
    return _add(
        session,
        marker=PUBLISHABLE_MARKER,
        tenant=tenant,
        scopes=[PUBLISHABLE_SCOPE],
        name=name,
        rate_limit=rate_limit,
        origins=parse_origins(origins),
    )


def _add(
    session: Session,
    *,
    marker: str,
    tenant: str,
    scopes: list[str],
    name: str,
    rate_limit: str | None,
    origins: list[str] | None = None,
) -> NewKey:
    repository = ApiKeyRepository(session)
    # A collision of 48 random bits is unlikely but cheap to rule out.
    while True:
        prefix = secrets.token_hex(PREFIX_BYTES)
        if repository.by_prefix(prefix) is None:
            break
    secret = f"{marker}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    key = repository.add(
        ApiKey(
            tenant=tenant,
            name=name,
            prefix=prefix,
            hash=hash_key(secret),
            scopes=scopes,
            rate_limit=rate_limit,
            origins=origins,
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
    stale = key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION
    if stale and record_use(session, key_id=key.id, now=now):
        # What the database now holds, without making the request's session dirty.
        set_committed_value(key, "last_used_at", now)
    return key


def record_use(session: Session, *, key_id: int, now: datetime) -> bool:
    """Stamps last_used_at in a short transaction of its own; True when this call wrote it.

    Not in the request's unit of work: a flush there would hold SQLite's write lock until the
    request commits, i.e. across a match that takes seconds, and every other request stamping a
    key in the meantime would wait out the busy timeout and fail. The stamp is bookkeeping, so
    when the database is busy it is skipped (the next request a minute on will try again).
    """
    try:
        with Session(bind=session.get_bind()) as own, own.begin():
            written = own.execute(
                update(ApiKey)
                .where(ApiKey.id == key_id)
                # A concurrent request may have stamped it already: one write per key and minute.
                .where(or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - LAST_USED_RESOLUTION))
                .values(last_used_at=now)
                .execution_options(synchronize_session=False)
            )
    except OperationalError as exc:
        logger.info("last_used_at of key %d not stamped, the database is busy: %s", key_id, exc.orig)
        return False
    # An UPDATE's result is a CursorResult (it has a rowcount); Session.execute is typed for any statement.
    return bool(cast(CursorResult[Any], written).rowcount)
