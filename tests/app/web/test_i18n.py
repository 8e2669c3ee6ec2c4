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
from app.web import i18n, rendering

APP = Path(__file__).resolve().parents[3] / "app"
# Every page's template: every message id in them must be in the Danish catalogue. The widget's pages
# are framed by other sites and bring their own words in both languages (app/widget/pages.py).
# Templates with markup only: a badge, a stylesheet link, a macro that translates what it is given.
MARKUP_ONLY = {"_status.html", "_head.html", "_words.html"}
WIDGET_OWN_WORDS = {"_layout.html", "form.html", "message.html", "sent.html"}
TRANSLATED = sorted(
    path
    for path in APP.glob("*/templates/**/*.html")
    if not (path.parent.name == "widget" and path.name in WIDGET_OWN_WORDS)
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


# Every module that marks messages (N_) or shows them (translate, translate_plural): pages, services whose
# errors and words a page says, forms, plots.
MARKS = ("N_(", "translate(request", "translate_plural(request")
TRANSLATED_PYTHON = sorted(
    path for path in APP.rglob("*.py") if any(mark in path.read_text(encoding="utf-8") for mark in MARKS)
)
KEYWORDS = {"translate": (2,), "translate_plural": (2, 3), "ngettext": (1, 2), "N_": None}


def _python_ids(path: Path) -> set[str]:
    with path.open("rb") as file:
        found = extract("python", file, keywords=KEYWORDS)
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
    assert len(TRANSLATED) >= 30 and all(_template_ids(path) for path in TRANSLATED if path.name not in MARKUP_ONLY)


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


def test_the_labels_of_codes_follow_the_page_language() -> None:
    # The filters behind a score's parts, a constraint's name and a category on the curator's match page.
    danish, english = rendering._ENVIRONMENTS["da"].filters, rendering._ENVIRONMENTS["en"].filters
    assert (english["part"]("dense"), danish["part"]("dense")) == ("Meaning of the texts", "Teksternes betydning")
    assert (english["constraint"]("min_trl"), danish["constraint"]("min_trl")) == ("Minimum TRL", "Mindste TRL")
    assert (english["category"]("cobots"), danish["category"]("cobots")) == (
        "collaborative robots",
        "samarbejdende robotter",
    )
    # A code without a label is shown as its words, in either language.
    assert danish["part"]("new_part") == english["part"]("new_part") == "new part"
