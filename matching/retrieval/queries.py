"""Query vectors: a profile's vector when it is the query of a search (a need's for its matches, an offering's
for its leads, many needs' for a demonstration day).

A profile already in the index reuses its stored vector where the encoder gives a text the same vector as a
passage and as a query; otherwise the text is encoded as a query, and for needs scored in bulk the vectors
are cached by text (saved beside the index, so a restart encodes none of them again).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from matching.encoders.base import Encoder, reuses_passage_vector
from matching.retrieval.collection import CatalogueIndex, Side
from matching.retrieval.sentence_cache import SentenceCache
from matching.retrieval.texts import need_text
from matching.types import Need

# Query vectors of needs scored for demonstration days whose query vector is not their stored one
# (a Danish need read through the glossary), kept by text: 8 MiB, about 5,000 of a 384-dimensional model.
QUERY_CACHE_BYTES = 8 * 1024 * 1024
QUERY_CACHE_FILE = "queries.npz"


class QueryVectors:
    """The query vector of a profile of `catalogue`, stored, cached or encoded. Thread-safe."""

    def __init__(self, encoder: Encoder, catalogue: CatalogueIndex, *, max_bytes: int = QUERY_CACHE_BYTES) -> None:
        self.encoder = encoder
        self.catalogue = catalogue
        self.cache = SentenceCache(dimension=encoder.dimension, max_bytes=max_bytes)

    def of(self, side: Side, ident: int, text: str) -> np.ndarray:  # type: ignore[type-arg]
        """The stored vector of a profile already in the index (same text, same vector as a query), else encode."""
        with self.catalogue.lock:
            # The text comparison first: an ad-hoc text is never stored, and needs no language check.
            if side.texts.get(ident) == text and reuses_passage_vector(self.encoder, text):
                stored: np.ndarray = side.vectors.vectors([ident])[0]
                return stored
        encoded: np.ndarray = self.encoder.encode([text], kind="query")[0]
        return encoded

    def of_needs(self, needs: Sequence[Need]) -> np.ndarray:
        """Each need's query vector, row-aligned: the stored vector where the encoder reuses it, the
        others from the cache or encoded together in one call."""
        texts = [need_text(n) for n in needs]
        out = np.zeros((len(needs), self.encoder.dimension), dtype=np.float32)
        with self.catalogue.lock:
            side = self.catalogue.needs
            stored = [
                row
                for row, (need, text) in enumerate(zip(needs, texts, strict=True))
                if side.texts.get(need.id) == text and reuses_passage_vector(self.encoder, text)
            ]
            if stored:
                out[stored] = side.vectors.vectors([needs[row].id for row in stored])
        missing = sorted(set(range(len(needs))) - set(stored))
        if missing:
            vectors = self.cache.vectors(self.encoder, [[texts[row]] for row in missing], kind="query")
            out[missing] = np.stack([v[0] for v in vectors])
        return out

    def forget(self, needs: Sequence[Need]) -> int:
        """Drop the cached vectors of these needs' texts (an erasure); returns how many went."""
        return self.cache.discard([need_text(n) for n in needs], kind="query")

    def save(self, directory: Path) -> int:
        return self.cache.save(directory / QUERY_CACHE_FILE, model=self.encoder.name)

    def load(self, directory: Path) -> int:
        return self.cache.load(directory / QUERY_CACHE_FILE, model=self.encoder.name)
