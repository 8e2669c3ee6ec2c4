"""Sign-in for every web page: the signing secret, CSRF tokens, server-side sessions and who may open a page.

Every page route names who may open it with exactly one of the dependencies below: `require_roles(...)`
(a signed-in person with one of the roles; anyone else signed in gets the 403 page, nobody signed in
the sign-in page) or `public_page` (anyone). tests/app/people/test_page_roles.py walks every page
route with every role and fails on a route that names neither; docs/people.md holds the same matrix.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, Header, Request
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import compile_path

from app.core.deps import SessionDep
from app.core.settings import Settings
from app.models import STAFF_ROLES, Person, Role
from app.people import service as people
from app.people.passwords import Passwords
from app.people.throttle import SignInThrottle
from app.review.service import Actor
from app.web.i18n import Said

SECRET_FILE = "session_secret"
SESSION_TOKEN = "sid"
SESSION_CSRF = "csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

ANONYMOUS = "anonymous"
AUDIENCES = (ANONYMOUS, *(role.value for role in Role))
# The attribute a page dependency carries: who may open the page (role values, and ANONYMOUS for public pages).
AUDIENCE_ATTRIBUTE = "page_audience"

# Each role's home, where sign-in and "/" send it.
HOMES: dict[Role, str] = {
    Role.curator: "/review",
    Role.facilitator: "/facilitator",
    Role.sme: "/sme",
    Role.provider: "/provider",
}


class SignInRequired(Exception):
    """Nobody signed in: pages answer with a redirect to the sign-in page."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in person as the templates and error pages see them: plain values, readable after the
    request's transaction rolled back (which expires the database row)."""

    id: int
    username: str
    email: str | None
    role: Role
    tenant: str
    company_id: int | None
    provider_id: int | None
    language: str | None = None

    @classmethod
    def of(cls, person: Person) -> Viewer:
        return cls(
            id=person.id,
            username=person.username,
            email=person.email,
            role=person.role,
            tenant=person.tenant,
            company_id=person.company_id,
            provider_id=person.provider_id,
            language=person.language,
        )

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


class RoleForbidden(Exception):
    """Signed in, with a role the page is not for: the 403 page."""

    def __init__(self, viewer: Viewer) -> None:
        super().__init__(viewer.role)
        self.viewer = viewer


class CsrfFailed(Exception):
    """A form without the session's CSRF token: answered 403, nothing changes."""


class PageError(Exception):
    """Raised by a page's dependency (the record it names is missing, another tenant's): the error page
    with this message, translated, and this status."""

    def __init__(self, message: str | Said, *, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def session_secret(settings: Settings) -> str:
    """The configured secret, or (outside production) one generated once and kept in the data dir."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path: Path = settings.data_dir / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    # Written private (0600) beside it, then linked into place: the file appears whole or not at all, so
    # a process starting at the same moment (`serve --workers N`) reads the secret, never an empty file,
    # and never overwrites the one that won.
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(secret)
    try:
        os.link(partial, path)
    except FileExistsError:
        return path.read_text().strip()
    finally:
        partial.unlink()
    return secret


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use (also before sign-in, for the sign-in form)."""
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def verify_csrf(
    request: Request,
    csrf_token_field: Annotated[str | None, Form(alias=CSRF_FIELD)] = None,
    csrf_header: Annotated[str | None, Header(alias=CSRF_HEADER)] = None,
) -> None:
    expected = request.session.get(SESSION_CSRF)
    sent = csrf_token_field or csrf_header
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(expected, sent):
        raise CsrfFailed()


# Sessions: the signed cookie holds a random token; the database holds its hash and whose it is, so
# signing out, a password change or disabling the person ends a session even if its cookie was copied.


def get_passwords(request: Request) -> Passwords:
    passwords: Passwords = request.app.state.passwords
    return passwords


def get_signin_throttle(request: Request) -> SignInThrottle:
    throttle: SignInThrottle = request.app.state.signin_throttle
    return throttle


def client_address(request: Request) -> str:
    # uvicorn puts a trusted proxy's X-Forwarded-For here (FORWARDED_ALLOW_IPS, 127.0.0.1 by default).
    return request.client.host if request.client is not None else "unknown"


def session_token(request: Request) -> str | None:
    token = request.session.get(SESSION_TOKEN)
    return token if isinstance(token, str) else None


def signed_in_person(request: Request, session: SessionDep) -> Person | None:
    """The person of the request's session, checked against the database on every request."""
    if hasattr(request.state, "person_row"):
        person: Person | None = request.state.person_row
        return person
    token = session_token(request)
    person = people.session_person(session, token=token) if token else None
    if person is None and token is not None:
        request.session.pop(SESSION_TOKEN, None)  # ended, expired or disabled: forget it
    _remember(request, person)
    return person


def _remember(request: Request, person: Person | None) -> None:
    request.state.person_row = person
    request.state.person = Viewer.of(person) if person is not None else None


def sign_in(request: Request, session: SessionDep, person: Person) -> None:
    # A fresh session (and CSRF token) at sign-in, so a token planted before it is worthless.
    settings: Settings = request.app.state.settings
    token = people.start_session(session, person=person, max_age=settings.session_max_age)
    request.session.clear()
    request.session[SESSION_TOKEN] = token
    request.session[SESSION_CSRF] = secrets.token_urlsafe(32)
    _remember(request, person)


def sign_out(request: Request, session: SessionDep) -> None:
    token = session_token(request)
    if token is not None:
        people.end_session(session, token=token)
    request.session.clear()
    _remember(request, None)


# Who may open a page.


def _declare(dependency: Callable[..., Any], audience: frozenset[str]) -> None:
    setattr(dependency, AUDIENCE_ATTRIBUTE, audience)


@cache
def require_roles(*roles: Role) -> Callable[..., Person]:
    """A page dependency: the signed-in person, if their role is one of `roles`.

    Nobody signed in: SignInRequired (the sign-in page); another role: RoleForbidden (the 403 page).
    Cached, so pages asking for the same roles share one callable (and FastAPI's per-request cache)."""
    if not roles or any(not isinstance(role, Role) for role in roles):
        raise ValueError(f"page roles must be Role members, got {roles!r}")

    def dependency(request: Request, session: SessionDep) -> Person:
        person = signed_in_person(request, session)
        if person is None:
            raise SignInRequired()
        if person.role not in roles:
            raise RoleForbidden(request.state.person)
        return person

    _declare(dependency, frozenset(role.value for role in roles))
    dependency.__name__ = "require_" + "_or_".join(role.value for role in roles)
    return dependency


def public_page(request: Request, session: SessionDep) -> Person | None:
    """A page dependency for pages anyone may open; the signed-in person, if any."""
    return signed_in_person(request, session)


_declare(public_page, frozenset(AUDIENCES))


def _calls(dependant: Any) -> Iterator[Any]:
    for dependency in getattr(dependant, "dependencies", []):
        yield dependency.call
        yield from _calls(dependency)


@dataclass(frozen=True, slots=True)
class PageRoute:
    """A route outside the API, with who may open it (None: it declares nobody, which the role walk refuses)."""

    method: str
    path: str
    audience: frozenset[str] | None


def page_audience(dependant: Any) -> frozenset[str] | None:
    """Who may open a route, from the page dependencies it names (see AUDIENCES); None when it names none."""
    declared = [getattr(call, AUDIENCE_ATTRIBUTE) for call in _calls(dependant) if hasattr(call, AUDIENCE_ATTRIBUTE)]
    return frozenset.intersection(*declared) if declared else None


def page_routes(app: FastAPI, *, api_prefix: str = "/api/") -> list[PageRoute]:
    """Every route of the app outside the API (FastAPI's own documentation routes included), per method."""
    found: list[PageRoute] = []
    for context in iter_route_contexts(app.routes):
        path = context.path
        if not isinstance(context.original_route, APIRoute) or path is None or path.startswith(api_prefix):
            continue
        audience = page_audience(context.dependant)
        found.extend(PageRoute(method, path, audience) for method in sorted(context.methods or ()))
    return found


def may_open(app: FastAPI, path: str, person: Person | Viewer) -> bool:
    """Whether `person` may open the page at `path` (a GET), by its route's declaration."""
    for route in page_routes(app):
        if route.method == "GET" and compile_path(route.path)[0].match(path):
            return route.audience is not None and person.role.value in route.audience
    return False


def home_of(person: Person | Viewer) -> str:
    return HOMES[person.role]


def curator_actor(curator: Person) -> Actor:
    return Actor(name=curator.username, kind="curator", tenant=curator.tenant)


PasswordsDep = Annotated[Passwords, Depends(get_passwords)]
SignInThrottleDep = Annotated[SignInThrottle, Depends(get_signin_throttle)]
CsrfDep = Annotated[None, Depends(verify_csrf)]
VisitorDep = Annotated[Person | None, Depends(public_page)]
SignedInDep = Annotated[Person, Depends(require_roles(*Role))]
CuratorDep = Annotated[Person, Depends(require_roles(Role.curator))]
StaffDep = Annotated[Person, Depends(require_roles(*sorted(STAFF_ROLES)))]
FacilitatorDep = Annotated[Person, Depends(require_roles(Role.facilitator))]
SmeDep = Annotated[Person, Depends(require_roles(Role.sme))]
ProviderDep = Annotated[Person, Depends(require_roles(Role.provider))]
