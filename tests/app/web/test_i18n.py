"""The pages' languages: the Danish catalogue translates every message of the translated templates and of
the Python that shows messages, the language a request gets, and the service messages kept in step."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

from app.matches.service import NOTHING_FITS
from app.people import access
from app.people import service as people
from app.web import i18n

APP = Path(__file__).resolve().parents[3] / "app"
# The templates translated so far: every message id in them must be in the Danish catalogue.
TRANSLATED = sorted(
    [
        *(APP / "sme" / "templates").rglob("*.html"),
        *(APP / "provider" / "templates").rglob("*.html"),
        *(APP / "people" / "templates").rglob("*.html"),
        APP / "web" / "templates" / "base.html",
        APP / "web" / "templates" / "error.html",
        APP / "web" / "templates" / "_engagements.html",
    ]
)
OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}


def _danish() -> dict[str, object]:
    with i18n.catalogue_path("da").open("rb") as file:
        catalogue = read_po(file, locale="da")
    return {
        message.id if isinstance(message.id, str) else message.id[0]: message for message in catalogue if message.id
    }


def _template_ids(path: Path) -> set[str]:
    with path.open("rb") as file:
        found = babel_extract(file, ["_", "gettext", "ngettext"], [], OPTIONS)
        return {m if isinstance(m, str) else m[0] for _, _, m, _ in found if m}


@pytest.mark.parametrize("path", TRANSLATED, ids=lambda p: str(p.relative_to(APP)))
def test_the_danish_catalogue_covers_every_message_of_the_template(path: Path) -> None:
    danish = _danish()
    ids = _template_ids(path)
    untranslated = sorted(i for i in ids if i not in danish or not danish[i].string or danish[i].fuzzy)  # type: ignore[attr-defined]
    assert untranslated == [], f"add these to app/web/locale/da/LC_MESSAGES/messages.po: {untranslated}"


# The Python of the translated pages: what it passes to translate() or marks with N_.
TRANSLATED_PYTHON = sorted(
    [
        APP / "sme" / "pages.py",
        APP / "provider" / "pages.py",
        APP / "people" / "pages.py",
        APP / "web" / "install.py",
        APP / "engagements" / "pages.py",
    ]
)


def _python_ids(path: Path) -> set[str]:
    with path.open("rb") as file:
        found = extract("python", file, keywords={"translate": (2,), "N_": None})
        return {m if isinstance(m, str) else m[0] for _, m, _, _ in found if m}


@pytest.mark.parametrize("path", TRANSLATED_PYTHON, ids=lambda p: str(p.relative_to(APP)))
def test_the_danish_catalogue_covers_every_message_of_the_pages_python(path: Path) -> None:
    danish = _danish()
    ids = _python_ids(path)
    assert ids, "the walk found no message: the extraction keywords no longer match the code"
    untranslated = sorted(i for i in ids if i not in danish or not danish[i].string or danish[i].fuzzy)  # type: ignore[attr-defined]
    assert untranslated == [], f"add these to app/web/locale/da/LC_MESSAGES/messages.po: {untranslated}"


def test_every_translated_template_says_something() -> None:
    # Guards the walk: a template with markup only would pass on nothing.
    assert len(TRANSLATED) >= 15 and all(_template_ids(path) for path in TRANSLATED if path.name != "_status.html")


def test_the_danish_catalogue_has_no_placeholder_it_lost() -> None:
    for message_id, message in _danish().items():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)  # type: ignore[attr-defined]
        for placeholder in ("%(", "{"):
            if placeholder in message_id:
                assert all(placeholder in s for s in strings), message_id


def test_the_service_messages_are_what_the_services_say() -> None:
    said = {
        people.WRONG_CREDENTIALS,
        people.INVALID_INVITATION,
        people.UNKNOWN_LANGUAGE,
        access.NOT_YOUR_COMPANY,
        access.NOT_YOUR_PROVIDER,
        access.NOT_FOR_YOUR_ROLE,
    }
    assert said <= set(i18n.SERVICE_MESSAGES)
    assert all(i18n.gettext("da", message) != message for message in said)


def test_the_language_of_a_page() -> None:
    assert i18n.page_language(stored="da", accept_language="en-GB,en") == "da"
    assert i18n.page_language(stored=None, accept_language="fr;q=1, da-DK;q=0.8, en;q=0.5") == "da"
    assert i18n.page_language(stored=None, accept_language="en;q=0.9, da;q=0.95") == "da"
    assert i18n.page_language(stored=None, accept_language="da;q=0, de") == "en"
    assert i18n.page_language(stored="xx", accept_language=None) == "en"
    assert i18n.page_language(stored=None, accept_language="q=;;,") == "en"


def test_the_engines_nothing_fits_message_speaks_danish() -> None:
    assert set(NOTHING_FITS) >= {"en", "da"} and "Intet i kataloget" in NOTHING_FITS["da"]
