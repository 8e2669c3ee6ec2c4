"""The web pages' languages: which one a request gets, and the gettext catalogues (Babel) behind them.

The language is the signed-in person's stored choice, else the browser's Accept-Language, else English.
Catalogues are `locale/<language>/LC_MESSAGES/messages.po`, compiled in memory when first used, so no
compiled .mo file can fall behind its .po. English is the message ids themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "en"
# The pages' languages, each in its own words (the language switch shows these).
LANGUAGES: dict[str, str] = {"en": "English", "da": "Dansk"}


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of `language`; English (and an unknown language) translate to themselves."""
    path = catalogue_path(language)
    if language == DEFAULT_LANGUAGE or not path.exists():
        return NullTranslations()
    with path.open("rb") as file:
        catalogue = read_po(file, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def supported(language: str | None) -> str | None:
    """`language` if the pages speak it (a region like "da-DK" counts as "da"), else None."""
    if not language:
        return None
    code = language.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The first language of an Accept-Language header, by weight, that the pages speak."""
    if not header:
        return None
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, parameters = part.partition(";")
        weight = 1.0
        if parameters.strip().startswith("q="):
            try:
                weight = float(parameters.strip()[2:])
            except ValueError:
                weight = 0.0
        code = supported(tag)
        if code is not None and weight > 0:
            weighted.append((-weight, position, code))
    return min(weighted)[2] if weighted else None


def page_language(*, stored: str | None, accept_language: str | None) -> str:
    """The language of a page: the person's stored choice, else the browser's, else English."""
    return supported(stored) or from_accept_language(accept_language) or DEFAULT_LANGUAGE


def gettext(language: str, message: str) -> str:
    """`message` in `language` (for texts made in Python: flash messages, errors)."""
    return translations(language).gettext(message)


def N_(message: str) -> str:
    """Marks a message for extraction into the catalogues where it is made; it is translated where shown."""
    return message


def as_written(message: str) -> str:
    """No translation: the message as written, in English (what the API says; a page passes its gettext)."""
    return message


@dataclass(frozen=True, slots=True)
class Said:
    """A message for a person, said when shown: an English message id and its values (a value may be a Said
    of its own, or a code the catalogue words, like a stage). The API says it in English; a page in its language."""

    message: str
    values: Mapping[str, object] = field(default_factory=dict)

    def say(self, gettext: Callable[[str], str] = as_written) -> str:
        """The message in `gettext`'s language (English by default)."""
        text = gettext(self.message)
        if not self.values:
            return text
        return text % {k: v.say(gettext) if isinstance(v, Said) else v for k, v in self.values.items()}


# Messages the services make (in English, as the API says them) that the pages show translated.
# tests/app/web/test_i18n.py checks each is still what its service says.
SERVICE_MESSAGES = (
    N_("Unknown username or wrong password."),
    N_("This invitation link is not valid: it is unknown, already used or expired."),
    N_("The pages are in English or Danish only."),
    N_("This page belongs to another company."),
    N_("This page belongs to another provider."),
    N_("This page is not for your role."),
    N_("Type the company's name exactly to confirm the erasure."),
    N_("You already asked for an introduction to this offering."),
    N_("accepted"),
    N_("expired"),
    N_("open"),
)
