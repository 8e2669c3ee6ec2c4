"""A deterministic hashing encoder: no model, no torch; fast tests that still rank by shared words."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np

from matching.encoders.base import HASHING_MODEL, TextKind, normalise

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
