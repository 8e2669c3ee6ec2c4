"""Which language a profile is written in (lingua, bundled models), so queries can be routed per language."""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lingua import LanguageDetector

# The languages of the programmes techmatch serves; a small candidate set makes short texts more reliable.
SUPPORTED: tuple[str, ...] = ("en", "da", "de", "sv", "nb", "nl")
_LINGUA_NAMES = {
    "en": "ENGLISH",
    "da": "DANISH",
    "de": "GERMAN",
    "sv": "SWEDISH",
    "nb": "BOKMAL",
    "nl": "DUTCH",
}
# Norwegian is "no" in the data format, "nb" (Bokmål) in lingua.
_ALIASES = {"no": "nb"}
_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
# Below this many words a guess is too weak to route on.
MIN_WORDS = 3
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    from lingua import Language, LanguageDetectorBuilder

    languages = [getattr(Language, _LINGUA_NAMES[code]) for code in SUPPORTED]
    # Loaded now, not on first use: lazily, the first detections took about 12 ms each (1.2 s in
    # all) where a loaded detector takes 0.2 ms, and those were the first requests a server served.
    return LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()


def preload() -> None:
    """Load the detector's language models (about a second), so no request waits for them."""
    _detector()


def normalise_code(code: str | None) -> str | None:
    """'DA', 'da-DK' -> 'da'; unknown or empty -> None."""
    if not code:
        return None
    base = code.strip().lower().replace("_", "-").split("-")[0]
    base = _ALIASES.get(base, base)
    return base if base in SUPPORTED else None


@lru_cache(maxsize=4096)
def detect_language(text: str, *, min_confidence: float = 0.5) -> str | None:
    """ISO 639-1 code of the most likely language among SUPPORTED, or None when unsure or too short."""
    if len(_WORD.findall(text)) < MIN_WORDS:
        return None
    with _lock:  # the detector is shared; lingua's Python object is not documented as thread-safe
        values = _detector().compute_language_confidence_values(text)
    if not values or values[0].value < min_confidence:
        return None
    name = values[0].language.name
    return next(code for code, lingua_name in _LINGUA_NAMES.items() if lingua_name == name)


def text_language(text: str, *, declared: str | None = None, default: str = "en") -> str:
    """The language to treat `text` as: what the text itself reads as, else the declared one, else `default`.

    Detection wins over the declared value because a form's language field is often left at its default.
    """
    return detect_language(text) or normalise_code(declared) or default
