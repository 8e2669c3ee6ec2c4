"""The sentence-transformers encoder's loading, on a stand-in model (the real one is tested in test_traced)."""

from __future__ import annotations

import sys
import types

import pytest

from matching.encoders.sentence_transformers import SentenceTransformerEncoder
from matching.errors import EncoderError


class _UnknownDimension:
    """A model none of whose modules states its output size: sentence-transformers then answers None."""

    def __init__(self, path: str, *, device: str) -> None:
        self.max_seq_length = 256

    def get_embedding_dimension(self) -> int | None:
        return None


def test_a_model_of_unknown_dimension_is_an_encoder_error(monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in = types.ModuleType("sentence_transformers")
    stand_in.SentenceTransformer = _UnknownDimension  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", stand_in)
    with pytest.raises(EncoderError, match="embedding dimension"):
        SentenceTransformerEncoder(name="no-pooling", path="unused", precision="float32")
