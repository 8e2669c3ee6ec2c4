"""Who is calling: API keys (Bearer or X-API-Key) become a Principal; scopes and rate limits are checked here."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Literal

from fastapi import Depends, Request, Response, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import RateLimiter, SlidingWindowCounterRateLimiter

from app.core.deps import SessionDep, SettingsDep
from app.core.errors import Forbidden, TooManyRequests, Unauthorized
from app.core.settings import Settings
from app.keys.scopes import ADMIN_SCOPE, SCOPES
from app.keys.service import authenticate
from app.models.keys import ApiKey

__all__ = [
    "ADMIN_SCOPE",
    "SCOPES",
    "AnyKeyDep",
    "OptionalPrincipalDep",
    "Principal",
    "RateLimits",
    "require_key",
    "require_scope",
]

PrincipalKind = Literal["api_key", "curator"]

logger = logging.getLogger(__name__)
# An unreachable rate-limit store is logged at most this often.
_WARN_EVERY_S = 60.0

# Both schemes appear in the OpenAPI document; either one authenticates (they are alternatives).
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearerKey",
    description="`Authorization: Bearer tm_...`, a key from `techmatch keys create`.",
)
_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="apiKeyHeader",
    description="The same key in an `X-API-Key` header, for clients that cannot set Authorization.",
)


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of a request: what it may do (`scopes`) and whose data it sees (`tenant`)."""

    kind: PrincipalKind
    tenant: str
    scopes: frozenset[str]
    name: str

    def allows(self, scope: str) -> bool:
        return ADMIN_SCOPE in self.scopes or scope in self.scopes


class RateLimits:
    """Requests per API key, counted in a sliding window by the `limits` library.

    The counters live where `rate_limit_storage` says: this process's memory, or a Redis server that
    every process (`serve --workers N`, replicas on several machines) shares, so a key's limit holds
    for the whole service. When that store cannot be reached, requests are let through (and logged):
    an unreachable counter must not take the API down with it.
    """

    def __init__(self, settings: Settings) -> None:
        self.default = _parse_limits(settings.rate_limit)
        storage = storage_from_string(settings.rate_limit_storage, wrap_exceptions=True)
        self.limiter: RateLimiter = SlidingWindowCounterRateLimiter(storage)
        self._warned_at = -math.inf

    def check(self, *, key: str, limit: str | None, response: Response) -> None:
        """Counts one request; 429 with Retry-After once any of the key's limits is spent."""
        try:
            self._check(key=key, limit=limit, response=response)
        except StorageError as exc:
            if time.monotonic() - self._warned_at > _WARN_EVERY_S:
                self._warned_at = time.monotonic()
                logger.warning("rate limits not counted: their store is unreachable (%s)", exc)

    def _check(self, *, key: str, limit: str | None, response: Response) -> None:
        items = _parse_limits(limit) if limit else self.default
        for item in items:
            if not self.limiter.hit(item, "api-key", key):
                raise TooManyRequests(
                    f"rate limit of {_describe(item)} for this key reached; retry later",
                    retry_after=self._retry_after(item, key),
                )
        # The tightest limit is the one a client has to pace itself by.
        tightest = items[0]
        stats = self.limiter.get_window_stats(tightest, "api-key", key)
        response.headers["RateLimit-Limit"] = str(tightest.amount)
        response.headers["RateLimit-Remaining"] = str(max(stats.remaining, 0))

    def _retry_after(self, item: RateLimitItem, key: str, namespace: str = "api-key") -> int:
        reset = self.limiter.get_window_stats(item, namespace, key).reset_time
        return max(1, math.ceil(reset - time.time()))

    def spend(self, *, namespace: str, key: str, limit: str) -> int | None:
        """Counts one event against `limit` for `key` in `namespace`: None while allowed, else the seconds to wait."""
        for item in _parse_limits(limit):
            if not self.limiter.hit(item, namespace, key):
                return self._retry_after(item, key, namespace)
        return None


@cache
def _parse_limits(text: str) -> list[RateLimitItem]:
    """Parsed once per distinct limit string (the default and a few per-key ones), not per request."""
    return parse_many(text)


def _describe(item: RateLimitItem) -> str:
    unit = item.GRANULARITY.name
    return f"{item.amount} per {item.multiples} {unit}" if item.multiples != 1 else f"{item.amount} per {unit}"


def _presented_key(
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    header: Annotated[str | None, Security(_header)],
) -> str | None:
    if bearer is not None and bearer.credentials:
        return bearer.credentials.strip()
    if header:
        return header.strip()
    return None


def _principal(request: Request, response: Response, key: ApiKey) -> Principal:
    """The principal of a verified key, its request counted against the key's rate limit (429 when spent)."""
    limits: RateLimits = request.app.state.rate_limits
    limits.check(key=key.prefix, limit=key.rate_limit, response=response)
    return Principal(
        kind="api_key",
        tenant=key.tenant,
        scopes=frozenset(key.scopes),
        name=key.name or f"key {key.prefix}",
    )


def get_principal(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    presented: Annotated[str | None, Depends(_presented_key)],
) -> Principal:
    """The principal of a valid, unrevoked key (401 otherwise); counts the request against its rate limit."""
    if presented is None:
        raise Unauthorized("an API key is required: send 'Authorization: Bearer <key>'")
    key = authenticate(session, presented=presented)
    if key is None:
        raise Unauthorized("the API key is not valid or has been revoked")
    if key.publishable:
        raise Forbidden("a publishable key can only submit needs through the widget")
    return _principal(request, response, key)


def optional_principal(request: Request, response: Response, session: SessionDep) -> Principal | None:
    """The principal of a valid key when the request carries one, else None (public routes that tell a
    key's holder more, such as /readyz). Read from the headers directly: the route stays public in OpenAPI."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    presented = credentials.strip() if scheme.lower() == "bearer" else ""
    presented = presented or request.headers.get("X-API-Key", "").strip()
    key = authenticate(session, presented=presented) if presented else None
    # A publishable key is public: it tells its holder nothing more than anyone gets.
    return None if key is None or key.publishable else _principal(request, response, key)


def require_key(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    """Any valid key, whatever its scopes (reads of the shared technology catalogue)."""
    return principal


@cache
def require_scope(*scopes: str) -> Callable[..., Principal]:
    """A dependency that admits a key holding one of `scopes` (or admin); 403 for other valid keys.

    Cached, so every route asking for the same scopes shares one callable (and FastAPI's per-request cache).
    """
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise ValueError(f"unknown scope(s) {unknown!r}")

    def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not any(principal.allows(scope) for scope in scopes):
            raise Forbidden(f"this key lacks the scope {' or '.join(repr(s) for s in scopes)}")
        return principal

    dependency.required_scopes = scopes  # type: ignore[attr-defined]  # read by the route walk and OpenAPI
    dependency.__name__ = "require_scope_" + "_or_".join(s.replace(":", "_") for s in scopes)
    return dependency


require_key.required_scopes = ()  # type: ignore[attr-defined]

AnyKeyDep = Annotated[Principal, Depends(require_key)]
OptionalPrincipalDep = Annotated[Principal | None, Depends(optional_principal)]
NeedsWriteDep = Annotated[Principal, Depends(require_scope("needs:write"))]
# Reading SME profiles: the website that writes them, or one that shows their matches.
ProfileReadDep = Annotated[Principal, Depends(require_scope("needs:write", "matches:read"))]
MatchesReadDep = Annotated[Principal, Depends(require_scope("matches:read"))]
CatalogueWriteDep = Annotated[Principal, Depends(require_scope("catalogue:write"))]
ReviewDep = Annotated[Principal, Depends(require_scope("review"))]
PairingDep = Annotated[Principal, Depends(require_scope("pairing"))]
ProgrammeDep = Annotated[Principal, Depends(require_scope("programme"))]
AdminDep = Annotated[Principal, Depends(require_scope("admin"))]
