"""Danish -> English word glossary for the lexical side and the English model: general manufacturing vocabulary.

BM25 and the English model cannot read Danish. A word-by-word gloss ("revner i svejsningerne" ->
"crack welding") is crude but lets both find offers written in English. The glossary is our own list
of everyday production words (resources/glossary-da-en.json); inflected forms are found through
the Danish Snowball stemmer and compounds ("kvalitetskontrol") by splitting them in two known parts.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

import Stemmer
from bm25s.stopwords import STOPWORDS_DANISH

from matching.language.detection import detect_language

_WORD = re.compile(r"\w+", re.UNICODE)
_STOPWORDS = frozenset(STOPWORDS_DANISH)
# Danish compounds join their parts directly or with a linking -s- or -e-.
_LINKS = ("", "s", "e")
_MIN_PART = 3
# Languages the Danish glossary can read (Norwegian Bokmål shares most of its production words).
GLOSSED_LANGUAGES = frozenset({"da", "nb"})
# Common in Danish and Norwegian text, rare in English: a cheap test before the language detector runs.
_NORDIC_MARKERS = frozenset({"og", "ikke", "på", "vi", "vores", "har", "af", "til", "med", "det", "jeg", "kan", "skal"})


@lru_cache(maxsize=1)
def _glossary() -> tuple[dict[str, str], dict[str, str]]:
    """(word -> English, Danish stem -> English)."""
    source = resources.files("matching").joinpath("resources/glossary-da-en.json")
    words: dict[str, str] = json.loads(source.read_text("utf-8"))
    stems: dict[str, str] = {}
    for word, english in words.items():
        stems.setdefault(_stemmer().stemWord(word), english)
    return words, stems


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("danish")


def _lookup(word: str) -> str | None:
    words, stems = _glossary()
    return words.get(word) or stems.get(_stemmer().stemWord(word))


@lru_cache(maxsize=8192)
def translate_word(word: str) -> str | None:
    """English for one Danish word (any inflection, or a two-part compound), or None when unknown."""
    word = word.lower()
    found = _lookup(word)
    if found:
        return found
    # Longest known head first: "produktionsplanlægning" -> "produktion" + "planlægning".
    for cut in range(len(word) - _MIN_PART, _MIN_PART - 1, -1):
        head, tail = word[:cut], word[cut:]
        tail_english = _lookup(tail)
        if not tail_english:
            continue
        for link in _LINKS:
            if link and not head.endswith(link):
                continue
            stem = head[: len(head) - len(link)] if link else head
            head_english = _lookup(stem) if len(stem) >= _MIN_PART else None
            if head_english:
                return f"{head_english} {tail_english}"
    return None


def gloss(text: str) -> str:
    """`text` word by word in English: known words translated, Danish stop words dropped, the rest kept."""
    out: list[str] = []
    for word in _WORD.findall(text):
        lowered = word.lower()
        if lowered in _STOPWORDS:
            continue
        out.append(translate_word(lowered) or word)
    return " ".join(out)


def cross_lingual_text(text: str) -> str:
    """`text` followed by its English gloss when it is Danish (or Norwegian), else `text` unchanged.

    Used for BM25 on both sides, so a Danish need finds English offers and a Danish offer English needs.
    """
    words = {w.lower() for w in _WORD.findall(text)}
    if len(words & _NORDIC_MARKERS) < 2 or detect_language(text) not in GLOSSED_LANGUAGES:
        return text
    return f"{text}\n{gloss(text)}"
