"""The Encoder protocol every model implements, its model names and vector normalisation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from matching.encoders.names import (
    DEFAULT_MODEL,
    E5_MODEL,
    GLOSSARY_MODEL,
    HASHING_MODEL,
    MULTILINGUAL_MODEL,
    PRECISIONS,
    Precision,
    TextKind,
)

__all__ = [
    "DEFAULT_MODEL",
    "E5_MODEL",
    "GLOSSARY_MODEL",
    "HASHING_MODEL",
    "MULTILINGUAL_MODEL",
    "PRECISIONS",
    "Encoder",
    "Precision",
    "TextKind",
    "normalise",
    "reuses_passage_vector",
]


@runtime_checkable
class Encoder(Protocol):
    """What the engine needs of an embedding model.

    `symmetric` is true when a query and a passage of the same text get the same vector, so a
    stored profile's vector can serve as its query vector without encoding it again. An encoder
    for which that depends on the text says so per text with `query_equals_passage(text)`
    (see `reuses_passage_vector`).
    """

    name: str
    dimension: int
    symmetric: bool

    def encode(
        self,
        texts: Sequence[str],
        *,
        kind: TextKind = "passage",
        batch_size: int = 64,
        show_progress: bool = False,
    ) -> np.ndarray: ...


def reuses_passage_vector(encoder: Encoder, text: str) -> bool:
    """Whether `text` encoded as a query equals its stored passage vector, so the stored one can serve."""
    per_text = getattr(encoder, "query_equals_passage", None)
    return bool(per_text(text)) if per_text is not None else encoder.symmetric


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as contiguous float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)
