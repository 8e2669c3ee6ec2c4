"""Puts the curator web pages on the app: session middleware, static files, routes and their error pages.

Not in the package's __init__, which runs whenever the pages import app.web's modules: this imports
the pages, so there the two would import each other.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from app.core.settings import Settings
from app.web.security import CsrfFailed, SignInRequired, session_secret

STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "techmatch_session"


async def _sign_in_required(request: Request, exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        target = "/review"
    return RedirectResponse(f"/review/login?{urlencode({'next': target})}", status_code=303)


async def _csrf_failed(request: Request, exc: Exception) -> Response:
    from app.web.rendering import render  # the templates need the session, set up by then

    message = "The form was missing its security token or it had expired. Reload the page and try again."
    return render(request, "error.html", {"message": message}, status_code=403)


def install_web(app: FastAPI, settings: Settings) -> None:
    from app.review.pages import router

    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(settings),
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(CsrfFailed, _csrf_failed)
    app.mount("/review/static", StaticFiles(directory=STATIC), name="review-static")
    app.include_router(router)
