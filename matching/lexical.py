"""BM25 over the same texts the dense index embeds (bm25s), with stemming and stop words."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_EN_PLUS

from matching.glossary import cross_lingual_text

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_STOPWORDS = frozenset(STOPWORDS_EN)
# Shown terms skip a longer list (and number words), so evidence is about content, not grammar.
_DISPLAY_STOPWORDS = frozenset(STOPWORDS_EN_PLUS) | {
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "also",
    "can",
    "get",
    "make",
    "want",
    "need",
    "use",
    "every",
    "per",
    "via",
    "within",
    "without",
}


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lower-cased, stop words dropped, Snowball-stemmed tokens."""
    words = [w for w in _TOKEN.findall(text.lower()) if w not in _STOPWORDS and not w.isdigit()]
    return _stemmer().stemWords(words)


def surface_forms(text: str) -> dict[str, str]:
    """Stem -> first word in `text` that produced it, for showing shared terms in plain words."""
    return dict(_surface_forms(text))


# Explanations ask for the same technology texts again and again (profiled: a sixth of a query's
# time went to re-stemming them); a text's forms never change.
@lru_cache(maxsize=20_000)
def _surface_forms(text: str) -> tuple[tuple[str, str], ...]:
    forms: dict[str, str] = {}
    for word in _TOKEN.findall(text):
        lowered = word.lower()
        if lowered in _DISPLAY_STOPWORDS or lowered.isdigit() or len(lowered) < 3:
            continue
        forms.setdefault(_stemmer().stemWord(lowered), word)
    return tuple(forms.items())


class LexicalIndex:
    """BM25 keyed by int64 ids. Writes mark it stale; the next search rebuilds it once."""

    def __init__(self, *, k1: float = 1.2, b: float = 0.75) -> None:
        self._k1, self._b = k1, b
        self._tokens: dict[int, list[str]] = {}
        self._model: bm25s.BM25 | None = None
        self._ids = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._tokens)

    def upsert(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        for ident, text in zip(ids, texts, strict=True):
            self._tokens[int(ident)] = tokenize(cross_lingual_text(text))
        self._model = None

    def remove(self, ids: Iterable[int]) -> None:
        for ident in ids:
            self._tokens.pop(int(ident), None)
        self._model = None

    def _ensure_built(self) -> bm25s.BM25 | None:
        if self._model is None and self._tokens:
            self._ids = np.fromiter(self._tokens, dtype=np.int64, count=len(self._tokens))
            # bm25s rejects empty documents; a placeholder token keeps row positions aligned.
            corpus = [self._tokens[int(i)] or ["\x00"] for i in self._ids]
            model = bm25s.BM25(k1=self._k1, b=self._b, method="lucene")
            model.index(corpus, show_progress=False)
            self._model = model
        return self._model

    def scores(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of every document for a query text; all zeros when nothing is shared."""
        model = self._ensure_built()
        if model is None:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        query = [t for t in tokenize(cross_lingual_text(text)) if t in model.vocab_dict]
        if not query:
            return np.zeros(len(self._ids), dtype=np.float32), self._ids
        return np.asarray(model.get_scores(query), dtype=np.float32), self._ids

    def search(self, text: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) with a positive score, best first."""
        scores, ids = self.scores(text)
        if not len(scores):
            return scores, ids
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        keep = top[scores[top] > 0]
        return scores[keep], ids[keep]
