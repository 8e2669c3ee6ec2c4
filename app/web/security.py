"""Curator sessions for the review pages: the signing secret, CSRF tokens and the signed-in curator."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Form, Header, Request

from app.core.deps import SessionDep
from app.core.settings import Settings
from app.models import Curator
from app.people.service import active_curator
from app.review.service import Actor

SECRET_FILE = "session_secret"
SESSION_CURATOR = "curator_id"
SESSION_CSRF = "csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class SignInRequired(Exception):
    """No signed-in curator: pages answer with a redirect to the sign-in page."""


class CsrfFailed(Exception):
    """A form without the session's CSRF token: answered 403, nothing changes."""


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


def sign_in(request: Request, curator: Curator) -> None:
    # A fresh session (and CSRF token) at sign-in, so a token planted before it is worthless.
    request.session.clear()
    request.session[SESSION_CURATOR] = curator.id
    request.session[SESSION_CSRF] = secrets.token_urlsafe(32)


def sign_out(request: Request) -> None:
    request.session.clear()


def current_curator(request: Request, session: SessionDep) -> Curator:
    curator_id = request.session.get(SESSION_CURATOR)
    curator = active_curator(session, curator_id=curator_id) if isinstance(curator_id, int) else None
    if curator is None:
        request.session.pop(SESSION_CURATOR, None)
        raise SignInRequired()
    return curator


def curator_actor(curator: Curator) -> Actor:
    return Actor(name=curator.username, kind="curator", tenant=curator.tenant)


CuratorDep = Annotated[Curator, Depends(current_curator)]
CsrfDep = Annotated[None, Depends(verify_csrf)]
