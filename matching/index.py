"""FAISS vector index with int64 ids (database keys), saved beside metadata that is checked on load."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np

from matching.errors import IndexMismatchError

FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class IndexMeta:
    """What an index file holds; compared with what the caller expects before it is used."""

    model: str
    dimension: int
    count: int
    catalogue_version: int
    kind: str = "flat-ip"
    built_at: str = ""
    format_version: int = FORMAT_VERSION


class VectorIndex:
    """Exact inner-product search (cosine on normalised vectors) keyed by int64 ids.

    Supports adding, replacing and removing vectors by id, and reconstructing a stored vector,
    so that fused ranking can score candidates that only the lexical side found.
    """

    def __init__(self, dimension: int, *, index: faiss.Index | None = None) -> None:
        self.dimension = dimension
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> np.ndarray:
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def upsert(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Add vectors; an id that is already present has its vector replaced."""
        ids_arr = np.asarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape != (len(ids_arr), self.dimension):
            raise ValueError(f"expected {len(ids_arr)} vectors of dimension {self.dimension}, got {vectors.shape}")
        if len(np.unique(ids_arr)) != len(ids_arr):
            raise ValueError("duplicate ids in one upsert")
        if not len(ids_arr):
            return
        self.remove(ids_arr)
        self._index.add_with_ids(vectors, ids_arr)

    def remove(self, ids: Iterable[int]) -> int:
        ids_arr = np.asarray(list(ids), dtype=np.int64)
        if not len(ids_arr) or not len(self):
            return 0
        return int(self._index.remove_ids(faiss.IDSelectorBatch(ids_arr)))

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) for each query row; missing slots have id -1."""
        query = np.ascontiguousarray(np.atleast_2d(query), dtype=np.float32)
        k = max(1, min(k, len(self))) if len(self) else 1
        if not len(self):
            n = query.shape[0]
            return np.zeros((n, 0), dtype=np.float32), np.zeros((n, 0), dtype=np.int64)
        return self._index.search(query, k)

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        """The stored vectors of `ids` (KeyError-free: unknown ids raise IndexMismatchError)."""
        out = np.zeros((len(ids), self.dimension), dtype=np.float32)
        for row, ident in enumerate(ids):
            try:
                out[row] = self._index.reconstruct(int(ident))
            except RuntimeError as exc:
                raise IndexMismatchError(f"id {ident} is not in the index") from exc
        return out

    def save(self, directory: Path, *, name: str, meta: IndexMeta) -> None:
        """Write `<name>.faiss` and `<name>.meta.json` atomically (temp file, then rename)."""
        directory.mkdir(parents=True, exist_ok=True)
        stamped = IndexMeta(**{**asdict(meta), "built_at": meta.built_at or _now()})
        _atomic_write(directory / f"{name}.faiss", faiss.serialize_index(self._index).tobytes())
        _atomic_write(
            directory / f"{name}.meta.json",
            json.dumps(asdict(stamped), indent=2).encode("utf-8"),
        )

    @classmethod
    def load(cls, directory: Path, *, name: str, expected: IndexMeta) -> VectorIndex:
        """Read an index and refuse it unless its metadata equals `expected` (build time aside)."""
        meta_path, index_path = directory / f"{name}.meta.json", directory / f"{name}.faiss"
        if not meta_path.is_file() or not index_path.is_file():
            raise IndexMismatchError(f"no saved {name} index in {directory.name}/")
        try:
            meta = IndexMeta(**json.loads(meta_path.read_text("utf-8")))
        except (ValueError, TypeError) as exc:
            raise IndexMismatchError(f"{meta_path.name} is unreadable: {exc}") from exc
        for field in ("format_version", "model", "dimension", "count", "catalogue_version"):
            found, wanted = getattr(meta, field), getattr(expected, field)
            if found != wanted:
                raise IndexMismatchError(f"{name} index {field} is {found!r}, expected {wanted!r}")
        try:
            raw = np.fromfile(index_path, dtype=np.uint8)
            index = faiss.deserialize_index(raw)
        except (RuntimeError, ValueError) as exc:
            raise IndexMismatchError(f"{index_path.name} is corrupt: {exc}") from exc
        if index.d != expected.dimension or index.ntotal != expected.count:
            raise IndexMismatchError(
                f"{index_path.name} holds {index.ntotal} vectors of dimension {index.d}, "
                f"its metadata says {meta.count} of dimension {meta.dimension}"
            )
        return cls(expected.dimension, index=index)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _atomic_write(path: Path, payload: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
