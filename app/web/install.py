"""Puts the web pages on the app: session middleware, static files, every feature's pages and their error pages.

Not in the package's __init__, which runs whenever the pages import app.web's modules: this imports
the pages, so there the two would import each other.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from app.core.problems import validation_problem
from app.core.settings import Settings
from app.people.passwords import Passwords
from app.people.throttle import SignInThrottle
from app.web.i18n import N_, Said
from app.web.security import CsrfFailed, PageError, RoleForbidden, SignInRequired, home_of, session_secret

STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "techmatch_session"
# Over HTTPS the cookie is bound to this host and path "/" by the browser itself (RFC 6265bis).
SECURE_SESSION_COOKIE = "__Host-techmatch_session"

API_PREFIX = "/api/"
INVALID_REQUEST = N_("Something in the address or the form could not be read ({fields}). Go back and check it.")
CSRF_MESSAGE = N_("The form was missing its security token or it had expired. Reload the page and try again.")


async def _sign_in_required(request: Request, exc: Exception) -> Response:
    query = ""
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        query = "?" + urlencode({"next": target})
    return RedirectResponse(f"/login{query}", status_code=303)


async def _role_forbidden(request: Request, exc: Exception) -> Response:
    from app.people.access import NOT_FOR_YOUR_ROLE
    from app.web.rendering import render, translate  # the templates need the session, set up by then

    assert isinstance(exc, RoleForbidden)
    context = {"message": translate(request, NOT_FOR_YOUR_ROLE), "home": home_of(exc.viewer)}
    return render(request, "error.html", context, status_code=403)


async def _invalid_request(request: Request, exc: Exception) -> Response:
    """A page's address or form that cannot be read (a need id that is not a number, a title too long):
    the error page naming the fields; the API keeps its problem+json answer."""
    if request.url.path.startswith(API_PREFIX):
        return await validation_problem(request, exc)
    from app.web.rendering import render, translate

    assert isinstance(exc, RequestValidationError)
    fields = ", ".join(".".join(str(part) for part in e.get("loc", ())[1:]) for e in exc.errors())
    message = translate(request, INVALID_REQUEST).format(fields=fields)
    return render(request, "error.html", {"message": message}, status_code=422)


async def _csrf_failed(request: Request, exc: Exception) -> Response:
    from app.web.rendering import render, translate

    return render(request, "error.html", {"message": translate(request, CSRF_MESSAGE)}, status_code=403)


async def _page_error(request: Request, exc: Exception) -> Response:
    from app.web.rendering import render, words_of

    assert isinstance(exc, PageError)
    said = exc.message if isinstance(exc.message, Said) else Said(exc.message)
    return render(request, "error.html", {"message": said.say(words_of(request))}, status_code=exc.status)


def page_routers() -> list[object]:
    """Every feature's pages, in the order they are matched."""
    from app.engagements.pages import router as engagement_steps
    from app.facilitator.pages import router as facilitator
    from app.people.pages import router as people
    from app.provider.pages import router as provider
    from app.review.pages import router as review
    from app.sme.pages import router as sme
    from app.widget.pages import router as widget
    from app.widget.routes import router as widget_script

    return [people, review, facilitator, sme, provider, engagement_steps, widget, widget_script]


def install_web(app: FastAPI, settings: Settings) -> None:
    secret = session_secret(settings)
    app.state.signing_secret = secret  # also signs the widget's form tokens
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie=SECURE_SESSION_COOKIE if settings.cookies_secure else SESSION_COOKIE,
        max_age=settings.session_max_age,
        same_site=settings.session_same_site,
        https_only=settings.cookies_secure,
    )
    app.state.passwords = Passwords(slots=settings.password_hash_slots, queue=settings.password_hash_queue)
    app.state.signin_throttle = SignInThrottle(settings)
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(RoleForbidden, _role_forbidden)
    app.add_exception_handler(CsrfFailed, _csrf_failed)
    app.add_exception_handler(PageError, _page_error)
    # After the API's handlers (app.core.problems), so pages get a page; it hands API paths back to them.
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in page_routers():
        app.include_router(router)  # type: ignore[arg-type]
