"""Jinja2 rendering for the web pages: autoescaped templates, CSRF token, flash messages, headers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader

from app.core.errors import AppError
from app.web.i18n import LANGUAGES, N_, page_language, translations
from app.web.security import CSRF_FIELD, HOMES, csrf_token
from matching.language.wording import category_label

APP = Path(__file__).resolve().parent.parent
# The shared layout, sign-in and error pages here; each feature's pages in its own `templates/` folder
# (`app/review/templates/review/queue.html` is rendered as "review/queue.html").
TEMPLATE_DIRS = [APP / "web" / "templates", *sorted(p for p in APP.glob("*/templates") if p.parent.name != "web")]

# Scripts and styles only from this site; no inline script can run even if some text escaped.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


CONSTRAINT_LABELS = {
    "budget": N_("Budget"),
    "min_trl": N_("Minimum TRL"),
    "region": N_("Region"),
    "languages": N_("Languages"),
}

# The parts of a score's log-odds (matching.ranking.scoring.PARTS), as a curator reads them.
PART_LABELS = {
    "intercept": N_("Starting point (calibration)"),
    "dense": N_("Meaning of the texts"),
    "sentence": N_("Best matching sentence"),
    "lexical": N_("Words in common"),
    "taxonomy": N_("Category"),
    "sector": N_("Sector references"),
    "constraints": N_("Constraints"),
    "learned": N_("Curators' earlier decisions"),
}


def _labeller(labels: dict[str, str], language: str) -> Callable[[str], str]:
    """A filter showing a code by its label in `language` (an unknown code as its words)."""
    translated = translations(language)

    def label(name: str) -> str:
        return translated.gettext(labels[name]) if name in labels else name.replace("_", " ")

    return label


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _environment(language: str) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATE_DIRS),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # One environment per language: the i18n extension's callables are the environment's, not a request's.
    environment.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    environment.filters["when"] = _when
    environment.filters["category"] = partial(category_label, language=language)
    environment.filters["constraint"] = _labeller(CONSTRAINT_LABELS, language)
    environment.filters["part"] = _labeller(PART_LABELS, language)
    return environment


_ENVIRONMENTS = {language: _environment(language) for language in LANGUAGES}


def language_of(request: Request) -> str:
    """The language of the request's pages (app.web.i18n.page_language), worked out once per request."""
    language = getattr(request.state, "language", None)
    if isinstance(language, str):
        return language
    person = getattr(request.state, "person", None)
    language = page_language(
        stored=getattr(person, "language", None), accept_language=request.headers.get("accept-language")
    )
    request.state.language = language
    return language


def translate(request: Request, message: str) -> str:
    """`message` in the request's language: for flash messages and errors made in Python."""
    return translations(language_of(request)).gettext(message)


def words_of(request: Request) -> Callable[[str], str]:
    """The request's gettext: what `Said.say` and the builders of sentences take to speak its language."""
    return translations(language_of(request)).gettext


def say_problem(request: Request, exc: AppError) -> str:
    """An error's detail in the request's language: said from its message and values where it keeps them,
    else the English detail translated when the catalogue has it."""
    if exc.said is not None:
        return exc.said.say(words_of(request))
    return translate(request, exc.detail)


def translate_plural(request: Request, singular: str, plural: str, count: int) -> str:
    """`singular` or `plural`, as `count` asks, in the request's language (the caller fills in the count)."""
    return translations(language_of(request)).ngettext(singular, plural, count)


def flash(request: Request, kind: str, message: str) -> None:
    """A message shown once, on the next page rendered for this browser."""
    request.session.setdefault("flash", []).append([kind, message])


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    flashes = request.session.pop("flash", [])
    language = language_of(request)
    body = (
        _ENVIRONMENTS[language]
        .get_template(template)
        .render(
            {
                "request": request,
                "csrf_field": CSRF_FIELD,
                "csrf_token": csrf_token(request),
                "flashes": flashes,
                # The signed-in person (a plain Viewer), when the page's dependency looked them up (every page does).
                "person": getattr(request.state, "person", None),
                "homes": {role.value: path for role, path in HOMES.items()},
                "language": language,
                "languages": LANGUAGES,
                **context,
            }
        )
    )
    return HTMLResponse(body, status_code=status_code, headers={**SECURITY_HEADERS, **(headers or {})})


def render_bare(
    template: str, context: dict[str, Any], *, status_code: int = 200, headers: dict[str, str] | None = None
) -> HTMLResponse:
    """A page without the session: no CSRF token, no flash messages, no cookie (the widget, framed by other sites)."""
    # The widget brings its own texts in both languages (`t`); the environment's only for its filters.
    asked = str(context.get("lang", ""))
    language = asked if asked in _ENVIRONMENTS else next(iter(_ENVIRONMENTS))
    body = _ENVIRONMENTS[language].get_template(template).render(context)
    # An empty value drops a header (the widget's pages send no X-Frame-Options).
    merged = {name: value for name, value in {**SECURITY_HEADERS, **(headers or {})}.items() if value}
    return HTMLResponse(body, status_code=status_code, headers=merged)
