"""BM25 over the same texts the dense index embeds (bm25s), with stemming and stop words."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_EN_PLUS

from matching.errors import IndexMismatchError
from matching.language.glossary import cross_lingual_text
from matching.retrieval.files import atomic_write

# Saved BM25 files: bump when tokenisation, the glossary's use or the file layout changes, so old files are rebuilt.
LEXICAL_FORMAT_VERSION = 1
# A stem in at least this share of a catalogue's documents is too common to show as a shared term
# (only counted in catalogues of COMMON_MIN_DOCUMENTS or more, where a share means something).
COMMON_SHARE = 0.2
COMMON_MIN_DOCUMENTS = 20
# bm25s rejects empty documents; a placeholder token keeps row positions aligned (never produced by `tokenize`).
_EMPTY_DOC = "\x00"
_ARRAYS = ("ids", "token_ids", "offsets", "data", "indices", "indptr")
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
    stems: list[str] = _stemmer().stemWords(words)
    return stems


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
    """BM25 keyed by int64 ids. Writes mark it stale; the next search rebuilds it once.

    `save`/`load` keep the built BM25 matrix and the tokenised corpus in one file, so a start-up neither
    re-tokenises every text nor re-indexes; the tokens come back as Python lists only when a write needs them.
    """

    def __init__(self, *, k1: float = 1.2, b: float = 0.75) -> None:
        self._k1, self._b = k1, b
        self._tokens: dict[int, list[str]] = {}
        self._model: bm25s.BM25 | None = None
        self._ids = np.zeros(0, dtype=np.int64)
        # After `load`: (vocabulary, flat token ids, per-document offsets) aligned with `_ids`, until a write.
        self._packed: tuple[list[str], np.ndarray, np.ndarray] | None = None
        # (the model they were counted in, its common stems), see `common_stems`.
        self._common: tuple[bm25s.BM25, frozenset[str]] | None = None

    def __len__(self) -> int:
        return len(self._ids) if self._packed is not None else len(self._tokens)

    def _unpack(self) -> None:
        if self._packed is None:
            return
        vocab, token_ids, offsets = self._packed
        tokens: dict[int, list[str]] = {}
        for row, ident in enumerate(self._ids.tolist()):
            words = [vocab[t] for t in token_ids[offsets[row] : offsets[row + 1]].tolist()]
            tokens[ident] = [] if words == [_EMPTY_DOC] else words
        self._tokens, self._packed = tokens, None

    def upsert(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        self._unpack()
        for ident, text in zip(ids, texts, strict=True):
            self._tokens[int(ident)] = tokenize(cross_lingual_text(text))
        self._model = None

    def remove(self, ids: Iterable[int]) -> None:
        self._unpack()
        for ident in ids:
            self._tokens.pop(int(ident), None)
        self._model = None

    def ids(self) -> np.ndarray:
        """Ids of the indexed documents."""
        return self._ids.copy() if self._packed is not None else np.fromiter(self._tokens, dtype=np.int64)

    def _ensure_built(self) -> bm25s.BM25 | None:
        if self._model is None and self._tokens:
            self._ids = np.fromiter(self._tokens, dtype=np.int64, count=len(self._tokens))
            corpus = [self._tokens[int(i)] or [_EMPTY_DOC] for i in self._ids]
            model = bm25s.BM25(k1=self._k1, b=self._b, method="lucene")
            model.index(corpus, show_progress=False)
            self._model = model
        return self._model

    def save(self, path: Path, *, catalogue_version: int) -> None:
        """Write the built index and its tokens to `path` (an .npz) atomically, stamped with the catalogue version."""
        model = self._ensure_built()
        if self._packed is not None:
            vocab, token_ids, offsets = self._packed
        else:
            vocab_dict = model.vocab_dict if model is not None else {}
            vocab = [""] * len(vocab_dict)
            for token, position in vocab_dict.items():
                vocab[position] = token
            docs = [self._tokens[int(i)] or [_EMPTY_DOC] for i in self._ids] if model is not None else []
            lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
            offsets = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(lengths)])
            token_ids = np.fromiter((vocab_dict[t] for d in docs for t in d), dtype=np.int32, count=int(offsets[-1]))
        scores = model.scores if model is not None else {}
        meta = {
            "format_version": LEXICAL_FORMAT_VERSION,
            "catalogue_version": catalogue_version,
            "count": len(self),
            "k1": self._k1,
            "b": self._b,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        arrays = {
            "ids": self._ids if model is not None else np.zeros(0, dtype=np.int64),
            "token_ids": token_ids,
            "offsets": offsets,
            "data": scores.get("data", np.zeros(0, dtype=np.float32)),
            "indices": scores.get("indices", np.zeros(0, dtype=np.int32)),
            "indptr": scores.get("indptr", np.zeros(1, dtype=np.int64)),
        }
        buffer = io.BytesIO()
        # JSON, not a numpy string array: numpy would strip the placeholder's trailing NUL.
        np.savez(
            buffer,
            meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
            vocab=np.frombuffer(json.dumps(vocab, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
            **arrays,
        )
        atomic_write(path, buffer.getvalue())

    @classmethod
    def load(cls, path: Path, *, count: int, catalogue_version: int, k1: float = 1.2, b: float = 0.75) -> LexicalIndex:
        """Read a saved index; IndexMismatchError unless it is whole and matches the count, version and parameters."""
        if not path.is_file():
            raise IndexMismatchError(f"no saved BM25 index {path.name}")
        try:
            # Our own handle: np.load leaks the one it opens when the zip is truncated.
            with path.open("rb") as handle, np.load(handle, allow_pickle=False) as saved:
                meta = json.loads(saved["meta"].tobytes().decode("utf-8"))
                vocab = json.loads(saved["vocab"].tobytes().decode("utf-8"))
                arrays = {name: saved[name] for name in _ARRAYS}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise IndexMismatchError(f"{path.name} is unreadable: {exc}") from exc
        expected = {
            "format_version": LEXICAL_FORMAT_VERSION,
            "catalogue_version": catalogue_version,
            "count": count,
            "k1": k1,
            "b": b,
        }
        for field, wanted in expected.items():
            if not isinstance(meta, dict) or meta.get(field) != wanted:
                found = meta.get(field) if isinstance(meta, dict) else None
                raise IndexMismatchError(f"{path.name} {field} is {found!r}, expected {wanted!r}")
        ids, token_ids, offsets = arrays["ids"], arrays["token_ids"], arrays["offsets"]
        indptr, indices = arrays["indptr"], arrays["indices"]
        # Shapes the search relies on: a file that passes these reads as the index that was saved.
        consistent = isinstance(vocab, list) and len(ids) == count and len(np.unique(ids)) == count
        if consistent and count:
            consistent = bool(
                len(offsets) == count + 1
                and offsets[0] == 0
                and offsets[-1] == len(token_ids)
                and np.all(np.diff(offsets) >= 0)
                and (len(token_ids) == 0 or (token_ids.min() >= 0 and token_ids.max() < len(vocab)))
                and 1 <= len(indptr) <= len(vocab) + 1
                and indptr[0] == 0
                and indptr[-1] == len(indices) == len(arrays["data"])
                and np.all(np.diff(indptr) >= 0)
                and (len(indices) == 0 or (indices.min() >= 0 and indices.max() < count))
            )
        if not consistent:
            raise IndexMismatchError(f"{path.name} is damaged: its arrays do not fit together")
        index = cls(k1=k1, b=b)
        if count:
            model = bm25s.BM25(k1=k1, b=b, method="lucene")
            model.scores = {
                "data": arrays["data"],
                "indices": indices,
                "indptr": indptr,
                "num_docs": count,
            }
            model.vocab_dict = {token: position for position, token in enumerate(vocab)}
            model.unique_token_ids_set = set(model.vocab_dict.values())
            model.nonoccurrence_array = None  # only BM25L/BM25+ have one; "lucene" does not
            index._model, index._ids = model, ids.astype(np.int64)
            index._packed = (vocab, token_ids, offsets)
        return index

    def common_stems(self) -> frozenset[str]:
        """Stems in at least COMMON_SHARE of the documents ("system", "production" in a catalogue of
        production technologies): shared by almost any pair, so they explain nothing."""
        model = self._ensure_built()
        if model is None or len(self._ids) < COMMON_MIN_DOCUMENTS:
            return frozenset()
        if self._common is None or self._common[0] is not model:
            frequency = np.diff(model.scores["indptr"])
            floor = COMMON_SHARE * len(self._ids)
            stems = frozenset(t for t, i in model.vocab_dict.items() if i < len(frequency) and frequency[i] >= floor)
            self._common = (model, stems)
        return self._common[1]

    def _query_tokens(self, model: bm25s.BM25, text: str) -> list[str]:
        return [t for t in tokenize(cross_lingual_text(text)) if t in model.vocab_dict]

    def scores(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of every document for a query text; all zeros when nothing is shared."""
        model = self._ensure_built()
        if model is None:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        query = self._query_tokens(model, text)
        if not query:
            return np.zeros(len(self._ids), dtype=np.float32), self._ids
        return np.asarray(model.get_scores(query), dtype=np.float32), self._ids

    def ceiling(self, text: str) -> float:
        """The highest BM25 score any document could reach for this query: the sum over its indexed tokens
        of idf * (k1 + 1), what a token contributes as its frequency in a document grows without bound.

        A score divided by it is the share of the query's weighted words a document covers, in [0, 1] and
        comparable from one query to the next, where raw BM25 grows with the query's length.
        """
        model = self._ensure_built()
        if model is None:
            return 0.0
        query = self._query_tokens(model, text)
        if not query:
            return 0.0
        indptr = model.scores["indptr"]
        frequency = np.diff(indptr)
        ids = np.array([model.vocab_dict[t] for t in query], dtype=np.int64)
        in_range = ids < len(frequency)
        df = np.zeros(len(ids), dtype=np.float64)
        df[in_range] = frequency[ids[in_range]]
        n = float(len(self._ids))
        # Lucene's idf, as bm25s's "lucene" method scores it.
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        return float(idf.sum() * (self._k1 + 1.0))

    def search(self, text: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) with a positive score, best first."""
        scores, ids = self.scores(text)
        return _top(scores, ids, k)

    def search_and_score(self, text: str, k: int, ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`search`'s top-k, and the scores of `ids` too (0 for an id not indexed), from one scoring pass."""
        scores, indexed = self.scores(text)
        top_scores, top_ids = _top(scores, indexed, k)
        return top_scores, top_ids, _scores_of(scores, indexed, ids)

    def scores_of(self, text: str, ids: Sequence[int]) -> np.ndarray:
        """The scores of `ids` alone (0 for an id not indexed), from one scoring pass."""
        scores, indexed = self.scores(text)
        return _scores_of(scores, indexed, ids)


def _scores_of(scores: np.ndarray, indexed: np.ndarray, ids: Sequence[int]) -> np.ndarray:
    """The scores of `ids` among the `indexed` documents' `scores` (0 for an id not indexed)."""
    wanted = np.zeros(len(ids), dtype=np.float32)
    if len(ids) and len(indexed):
        order = np.argsort(indexed, kind="stable")
        asked = np.asarray(ids, dtype=np.int64)
        place = np.clip(np.searchsorted(indexed, asked, sorter=order), 0, len(indexed) - 1)
        rows = order[place]
        found = indexed[rows] == asked
        wanted[found] = scores[rows[found]]
    return wanted


def _top(scores: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    if not len(scores):
        return scores, ids
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    keep = top[scores[top] > 0]
    return scores[keep], ids[keep]
