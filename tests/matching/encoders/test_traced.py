"""The packaged model's fast paths: the traced forward pass and bfloat16 agree with the model's own encode."""

from __future__ import annotations

import numpy as np
import pytest

from matching.encoders.base import DEFAULT_MODEL
from matching.encoders.factory import default_model_path, load_encoder
from matching.encoders.sentence_transformers import SentenceTransformerEncoder, resolve_precision
from matching.encoders.traced import TracedEncoder
from matching.errors import EncoderError

TEXTS = [
    "Bearings fail without warning and the press line stops.",
    "Vision inspection of welded seams",
    "Vi vil gerne have en robot til at svejse små serier af stålrammer.",
    "pump",
    "Our 40 injection moulding machines run three shifts; scrap is 6 % and we cannot see which settings "
    "cause it. We log temperatures and pressures but nobody reads the files. " * 3,
]


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    # Imported where used: it takes seconds, and `make check` collects this module without running it.
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(default_model_path()), device="cpu")
    model.max_seq_length = 256
    return model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)


@pytest.fixture(scope="module")
def traced_float32() -> SentenceTransformerEncoder:
    encoder = load_encoder(DEFAULT_MODEL, precision="float32")
    assert isinstance(encoder, SentenceTransformerEncoder)
    return encoder


@pytest.mark.slow
def test_traced_float32_encoder_gives_the_models_own_vectors(traced_float32, reference):
    assert traced_float32._traced is not None  # the packaged model's pipeline is traceable
    vectors = traced_float32.encode(TEXTS, kind="query")
    assert vectors.dtype == np.float32 and vectors.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float((vectors * reference).sum(axis=1).min()) > 0.9999


@pytest.mark.slow
def test_traced_encoder_rows_do_not_depend_on_batch_size_or_order(traced_float32):
    together = traced_float32.encode(TEXTS, batch_size=64)
    alone = np.vstack([traced_float32.encode([text], batch_size=1) for text in TEXTS])
    pairs = traced_float32.encode(list(reversed(TEXTS)), batch_size=2)[::-1]
    assert float((together * alone).sum(axis=1).min()) > 0.9999
    assert float((together * pairs).sum(axis=1).min()) > 0.9999


@pytest.mark.slow
def test_bfloat16_vectors_stay_within_cosine_0_999_of_float32(reference):
    encoder = load_encoder(DEFAULT_MODEL, precision="bfloat16")
    assert encoder.precision == "bfloat16"
    vectors = encoder.encode(TEXTS)
    assert float((vectors * reference).sum(axis=1).min()) > 0.999


@pytest.mark.slow
def test_untraceable_pipeline_falls_back_to_the_models_encode():
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(default_model_path()), device="cpu")
    model[1].pooling_mode = "cls"  # a pooling the traced module does not reproduce
    assert TracedEncoder.trace(model, dimension=384) is None


@pytest.mark.slow
def test_traced_forward_is_one_torchscript_call(traced_float32):
    """One C++ call per batch is what lets it run without the GIL (the speed is measured by scripts/bench.py)."""
    import torch

    assert isinstance(traced_float32._traced._module, torch.jit.ScriptModule)


def test_precision_is_checked_and_auto_resolves_to_a_concrete_format():
    assert resolve_precision("auto") in ("float32", "bfloat16")
    assert resolve_precision("float32") == "float32"
    with pytest.raises(EncoderError, match="precision"):
        resolve_precision("float8")  # type: ignore[arg-type]
