"""A sentence-transformers model's forward pass as one TorchScript call, which runs without the GIL.

Eager PyTorch returns to Python between its few hundred operators per forward pass, and each return
waits for the GIL. In a server whose request threads run Python (ranking, explanations, JSON), that
wait is up to the interpreter's switch interval (5 ms) per operator: measured on the two-core
machine, a batch of 16 queries took 103 ms alone and 4,351 ms beside four busy Python threads.
The traced module runs the whole forward pass, pooling and normalisation in C++ (284 ms beside the
same four threads, which also take CPU), so micro-batching can pay off in a threaded server.

Only the common pipeline is traced: a Hugging Face transformer, mean pooling and optional
normalisation. Anything else, or a trace whose vectors disagree with the model's own `encode`,
leaves the caller on `SentenceTransformer.encode`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

# Cosine a traced vector must reach against the model's own encode (same precision) on the probes.
SELF_CHECK_COSINE = 0.995
_PROBES = (
    "Vision inspection of welded seams on a small-batch line.",
    "Our presses stop twice a week and nobody knows why until the bearing has already failed; we "
    "would like a warning a few days ahead, from the vibration and temperature we could measure.",
)


def _mean_pooled(transformer: Any) -> Any:
    import torch

    class MeanPooled(torch.nn.Module):
        """Transformer output mean-pooled over real tokens, in float32, and scaled to unit length."""

        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state.float()
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=1)

    return MeanPooled(transformer)


def _traceable(model: Any) -> bool:
    """Transformer, mean pooling, and at most a Normalize: the pipeline `_mean_pooled` reproduces."""
    modules = list(model)
    if len(modules) not in (2, 3) or not hasattr(modules[0], "auto_model"):
        return False
    pooling = modules[1]
    mode = getattr(pooling, "pooling_mode", None)
    if mode is None:  # older sentence-transformers: one flag per mode
        flags = {name: value for name, value in vars(pooling).items() if name.startswith("pooling_mode_")}
        mode = "mean" if flags.get("pooling_mode_mean_tokens") and sum(map(bool, flags.values())) == 1 else None
    if type(pooling).__name__ != "Pooling" or mode != "mean":
        return False
    return len(modules) == 2 or type(modules[2]).__name__ == "Normalize"


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """The tracer reads every attribute of the model, and transformers logs a note for some of them."""
    transformers_logger = logging.getLogger("transformers")
    level = transformers_logger.level
    transformers_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        transformers_logger.setLevel(level)


def _features(model: Any, texts: list[str]) -> dict[str, Any]:
    """The model's own tokenisation (its truncation, casing and special tokens)."""
    tokenize = getattr(model, "preprocess", None) or model.tokenize
    features: dict[str, Any] = tokenize(texts)
    return features


class TracedEncoder:
    """Encodes texts with the traced forward pass; build it with `TracedEncoder.trace`."""

    def __init__(self, model: Any, module: Any, *, dimension: int) -> None:
        self._model = model
        self._module = module
        self.dimension = dimension

    @classmethod
    def trace(cls, model: Any, *, dimension: int) -> TracedEncoder | None:
        """A traced twin of `model` (a SentenceTransformer), or None where the model cannot be traced."""
        if not _traceable(model):
            return None
        import torch

        try:
            example = _features(model, list(_PROBES))
            with torch.inference_mode(), warnings.catch_warnings(), _quiet_transformers():
                warnings.simplefilter("ignore")  # tracer notes on shape-dependent Python branches
                traced = torch.jit.trace(
                    _mean_pooled(model[0].auto_model).eval(),
                    (example["input_ids"], example["attention_mask"]),
                    check_trace=False,
                    strict=False,
                )
                traced = torch.jit.freeze(traced.eval())
            encoder = cls(model, traced, dimension=dimension)
            # The probes one at a time (other shapes than the trace saw) against the model's own encode.
            mine = np.vstack([encoder.encode([probe], batch_size=1) for probe in _PROBES])
            theirs = model.encode(list(_PROBES), convert_to_numpy=True, normalize_embeddings=True).astype(np.float32)
            agreement = float((mine * theirs).sum(axis=1).min())
        except Exception as exc:
            logger.warning("model not traced, using sentence-transformers' encode: %s", exc)
            return None
        if agreement < SELF_CHECK_COSINE:
            logger.warning("traced model disagrees with its encode (cosine %.4f); not used", agreement)
            return None
        return encoder

    def encode(self, texts: Sequence[str], *, batch_size: int, show_progress: bool = False) -> np.ndarray:
        """Unit vectors row-aligned with `texts`; batches of similar length, as sentence-transformers does."""
        import torch

        order = np.argsort([-len(text) for text in texts], kind="stable")
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        starts: Iterable[int] = range(0, len(texts), batch_size)
        if show_progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Batches", unit="batch")
        with torch.inference_mode():
            for start in starts:
                rows = order[start : start + batch_size]
                features = _features(self._model, [texts[i] for i in rows])
                out[rows] = self._module(features["input_ids"], features["attention_mask"]).numpy()
        return out
