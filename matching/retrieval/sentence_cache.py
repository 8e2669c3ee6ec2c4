"""Sentence vectors for explanations, cached by text digest with a memory bound, missing ones encoded in one call."""

from __future__ import annotations

import hashlib
import io
import logging
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from matching.encoders.base import Encoder, TextKind, normalise
from matching.retrieval.files import atomic_write

logger = logging.getLogger(__name__)

# 96 MiB of vectors: about 65,000 sentences of a 384-dimensional model, i.e. every sentence of a
# 10,000-offer catalogue (about five each) stays cached once it has been explained.
DEFAULT_MAX_BYTES = 96 * 1024 * 1024


_DIGEST_BYTES = 16


def _digest(kind: TextKind, sentence: str) -> bytes:
    # A digest, not the sentence, is the key: 16 bytes whatever the sentence's length.
    return hashlib.blake2b(f"{kind}\x00{sentence}".encode(), digest_size=_DIGEST_BYTES).digest()


class SentenceCache:
    """Normalised sentence vectors by (kind, sentence text); the least recently used go first past the bound.

    Keyed by text, not by record id: a record's vectors stay valid as long as its sentences do, a
    rebuilt index keeps them, and a sentence shared by several records is encoded once. Thread-safe.
    """

    def __init__(self, *, dimension: int, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if dimension < 1 or max_bytes < 0:
            raise ValueError("dimension must be >= 1 and max_bytes >= 0")
        self.dimension = dimension
        self.max_sentences = max_bytes // (dimension * np.dtype(np.float32).itemsize)
        self._entries: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def vectors(self, encoder: Encoder, groups: Sequence[Sequence[str]], *, kind: TextKind) -> list[np.ndarray]:
        """One (len(group), dimension) array per group of sentences; what is not cached is encoded in one call."""
        keys = [[_digest(kind, s) for s in group] for group in groups]
        found: dict[bytes, np.ndarray] = {}
        missing: dict[bytes, str] = {}
        with self._lock:
            for group, group_keys in zip(groups, keys, strict=True):
                for sentence, key in zip(group, group_keys, strict=True):
                    vector = self._entries.get(key)
                    if vector is not None:
                        self._entries.move_to_end(key)
                        found[key] = vector
                    elif key not in missing:
                        missing[key] = sentence
        if missing:
            # Outside the lock: concurrent requests encode at the same time (and a micro-batching
            # encoder merges their calls); two requests missing the same sentence both encode it.
            encoded = normalise(np.asarray(encoder.encode(list(missing.values()), kind=kind), dtype=np.float32))
            fresh = dict(zip(missing, encoded, strict=True))
            found.update(fresh)
            with self._lock:
                for key, vector in fresh.items():
                    self._entries[key] = vector
                    self._entries.move_to_end(key)
                while len(self._entries) > self.max_sentences:
                    self._entries.popitem(last=False)
        empty = np.zeros((0, self.dimension), dtype=np.float32)
        return [np.stack([found[k] for k in group_keys]) if group_keys else empty for group_keys in keys]

    def discard(self, sentences: Sequence[str], *, kind: TextKind) -> int:
        """Drop the vectors of these sentences (an erasure: none may stay, in memory or in a later save)."""
        with self._lock:
            return sum(self._entries.pop(_digest(kind, s), None) is not None for s in sentences)

    def save(self, path: Path, *, model: str) -> int:
        """Write every cached vector to `path` (atomically), stamped with the model; returns how many."""
        with self._lock:
            keys = list(self._entries)
            vectors = np.stack(list(self._entries.values())) if keys else np.zeros((0, self.dimension), np.float32)
        buffer = io.BytesIO()
        np.savez(
            buffer,
            model=np.array(model),
            keys=np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), _DIGEST_BYTES),
            vectors=vectors.astype(np.float32),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, buffer.getvalue())
        return len(keys)

    def load(self, path: Path, *, model: str) -> int:
        """Add the vectors saved at `path` by the same model (least recently used first); returns how many.

        A missing file, another model's or an unreadable one adds nothing: the cache only saves work.
        """
        if not path.is_file():
            return 0
        try:
            with np.load(path, allow_pickle=False) as saved:
                if str(saved["model"]) != model:
                    return 0
                keys, vectors = saved["keys"], saved["vectors"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            logger.info("ignoring the saved vectors in %s: %s", path, exc)
            return 0
        if (
            vectors.ndim != 2
            or vectors.shape[1] != self.dimension
            or keys.shape != (len(vectors), _DIGEST_BYTES)
            or keys.dtype != np.uint8
        ):
            return 0
        with self._lock:
            for key, vector in zip(keys, vectors.astype(np.float32), strict=True):
                self._entries.setdefault(key.tobytes(), vector)
            while len(self._entries) > self.max_sentences:
                self._entries.popitem(last=False)
        return len(keys)
