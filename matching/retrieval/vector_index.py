"""FAISS vector index with int64 ids (database keys): exact when small, HNSW when large; saved with checked metadata."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np

from matching.errors import IndexMismatchError
from matching.retrieval.files import atomic_write
from matching.retrieval.vector_store import FORMAT_VERSION, IndexMeta, VectorStore

__all__ = [
    "ANN_THRESHOLD",
    "FLAT_KIND",
    "FORMAT_VERSION",
    "HNSW_KIND",
    "FaissBackend",
    "IndexMeta",
    "VectorIndex",
]

FLAT_KIND = "flat-ip"
HNSW_KIND = "hnsw-fp16-ip"
# Catalogues up to this size are searched exactly. Measured on the two-core machine (one query,
# 384 dimensions, one thread, busy machine): exact 4.9 ms at 10,000 vectors, 13.5 ms at 20,000,
# 40 ms at 50,000; HNSW 0.1-0.6 ms. Past about 20,000 an exact search costs more than encoding
# the query (about 7 ms), so the approximate index starts to pay for its recall of 0.99.
ANN_THRESHOLD = 20_000
# HNSW graph: neighbours per node (M) and the candidate lists of a build and of a search. M=32 keeps
# recall@10 above 0.95 at 10^6 clustered vectors where M=16 fell below it; the graph costs 8*M bytes a
# vector (256 at M=32) beside the 768 of its float16 codes. `scripts/bench.py index` measures them.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 96
# Removed and replaced vectors stay in the graph as tombstones (HNSW cannot delete a node): searches
# skip them, and the graph is rebuilt from the live vectors once they outnumber this share of it.
COMPACT_SHARE = 0.25
COMPACT_MIN = 1000
# Vectors are added this many at a time, so a build never copies the whole set.
ADD_CHUNK = 65_536
# A tombstone's id in the id map: every live id is a database key, so >= 0.
_DEAD = -1
_LIVE = faiss.IDSelectorRange(0, np.iinfo(np.int64).max)
# Searches are single queries arriving on many request threads: OpenMP's parallel loop over one
# query only adds barrier waits (on a busy two-core machine a flat search of 3,000 vectors took 40 ms
# with two threads and under 1 ms with one). Builds and bulk adds use every core (`_all_cores`).
# OpenMP's thread count belongs to the calling thread, so each searching thread sets its own
# (`_one_thread`); setting it once at import only ever covered the main thread.
_threads = threading.local()


def _one_thread() -> None:
    if not getattr(_threads, "single", False):
        faiss.omp_set_num_threads(1)
        _threads.single = True


@contextmanager
def _all_cores() -> Iterator[None]:
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    _threads.single = False
    try:
        yield
    finally:
        _one_thread()


class VectorIndex:
    """Inner-product search (cosine on normalised vectors) keyed by int64 ids: the FAISS `VectorStore`.

    Exact (`IndexFlatIP`) up to `ann_threshold` vectors; past it an HNSW graph over float16 copies of
    the vectors (`IndexHNSWSQ`, `QT_fp16`): half the float32 bytes plus the graph, so a million offers
    take about 0.7 times their raw vectors, at a recall@10 above 0.95 in under a millisecond, with
    cosines within about 0.001 of the exact ones. Both kinds add, replace and remove by id and hand back
    a stored vector, so fused ranking can score candidates only BM25 found. HNSW cannot delete a node:
    a removed or replaced vector's id becomes -1 in the id map (a tombstone searches skip), and the
    graph is rebuilt from the live vectors when tombstones pass a quarter of it.
    """

    def __init__(
        self,
        dimension: int,
        *,
        index: faiss.IndexIDMap2 | faiss.IndexIDMap | None = None,
        ann_threshold: int = ANN_THRESHOLD,
    ) -> None:
        self.dimension = dimension
        self.ann_threshold = ann_threshold
        self._index: faiss.IndexIDMap2 | faiss.IndexIDMap = (
            index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        )
        # HNSW only: live id -> row of the graph (the flat kind's IndexIDMap2 keeps its own map).
        self._rows: dict[int, int] = {}
        self._dead = 0
        if self.kind == HNSW_KIND:
            id_map = faiss.vector_to_array(self._index.id_map)
            live = np.flatnonzero(id_map != _DEAD)
            self._rows = dict(zip(id_map[live].tolist(), live.tolist(), strict=True))
            self._dead = len(id_map) - len(live)
            self._graph().hnsw.efSearch = HNSW_EF_SEARCH

    @classmethod
    def build(
        cls,
        dimension: int,
        *,
        ids: Sequence[int] | np.ndarray,
        vectors: np.ndarray,
        ann_threshold: int = ANN_THRESHOLD,
    ) -> VectorIndex:
        """An index of the kind that suits `len(ids)`, holding these vectors."""
        index = cls.for_size(dimension, count=len(ids), ann_threshold=ann_threshold)
        index.upsert(ids, vectors)
        return index

    @classmethod
    def for_size(cls, dimension: int, *, count: int, ann_threshold: int = ANN_THRESHOLD) -> VectorIndex:
        """An empty index of the kind `count` vectors call for.

        For building large indexes chunk by chunk: `upsert` the chunks afterwards, so that memory
        holds the index and one chunk, never the whole set twice.
        """
        if count <= ann_threshold:
            return cls(dimension, ann_threshold=ann_threshold)
        return cls(dimension, index=_empty_hnsw(dimension), ann_threshold=ann_threshold)

    @property
    def kind(self) -> str:
        return FLAT_KIND if isinstance(self._index, faiss.IndexIDMap2) else HNSW_KIND

    @property
    def tombstones(self) -> int:
        return self._dead

    def __len__(self) -> int:
        return int(self._index.ntotal) - self._dead

    def ids(self) -> np.ndarray:
        id_map = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        return id_map[id_map != _DEAD] if self._dead else id_map

    def _graph(self) -> faiss.IndexHNSW:
        graph: faiss.IndexHNSW = faiss.downcast_index(self._index.index)  # type: ignore[assignment]
        return graph

    def upsert(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors; an id that is already present has its vector replaced."""
        ids_arr = np.asarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape != (len(ids_arr), self.dimension):
            raise ValueError(f"expected {len(ids_arr)} vectors of dimension {self.dimension}, got {vectors.shape}")
        if len(np.unique(ids_arr)) != len(ids_arr):
            raise ValueError("duplicate ids in one upsert")
        if (ids_arr < 0).any():
            raise ValueError("ids are database keys, never negative")
        if not len(ids_arr):
            return
        self.remove(ids_arr)
        if self.kind == FLAT_KIND and len(self) + len(ids_arr) > self.ann_threshold:
            self._become_hnsw(ids_arr, vectors)
            return
        self._add(ids_arr, vectors)
        self._compact_if_needed()

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        first_row = int(self._index.ntotal)
        with _all_cores() if len(ids) >= 256 else nullcontext():
            for start in range(0, len(ids), ADD_CHUNK):
                self._index.add_with_ids(vectors[start : start + ADD_CHUNK], ids[start : start + ADD_CHUNK])
        if self.kind == HNSW_KIND:
            self._rows.update(zip(ids.tolist(), range(first_row, first_row + len(ids)), strict=True))

    def _become_hnsw(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Move from the exact index to a graph holding its vectors and the new ones."""
        old_ids = self.ids()
        old = self.vectors(old_ids) if len(old_ids) else np.zeros((0, self.dimension), dtype=np.float32)
        self._index, self._rows, self._dead = _empty_hnsw(self.dimension), {}, 0
        self._graph().hnsw.efSearch = HNSW_EF_SEARCH
        self._add(np.concatenate([old_ids, ids]), np.concatenate([old, vectors]))

    def _compact_if_needed(self) -> None:
        if self.kind != HNSW_KIND or self._dead < max(COMPACT_MIN, COMPACT_SHARE * int(self._index.ntotal)):
            return
        # float16 -> float32 -> float16 is exact, so the rebuilt graph holds the same codes.
        live_ids = self.ids()
        live = self.vectors(live_ids)
        self._index, self._rows, self._dead = _empty_hnsw(self.dimension), {}, 0
        self._graph().hnsw.efSearch = HNSW_EF_SEARCH
        self._add(live_ids, live)

    def remove(self, ids: Iterable[int]) -> int:
        ids_arr = np.ascontiguousarray(np.fromiter((int(i) for i in ids), dtype=np.int64))
        if not len(ids_arr) or not len(self):
            return 0
        if self.kind == FLAT_KIND:
            return int(self._index.remove_ids(faiss.IDSelectorBatch(ids_arr)))
        rows = [row for row in (self._rows.pop(int(i), None) for i in ids_arr) if row is not None]
        if rows:
            # The id map's memory, in place: a tombstone is an id no database key can be.
            id_map = faiss.rev_swig_ptr(self._index.id_map.data(), int(self._index.ntotal))
            id_map[np.asarray(rows, dtype=np.int64)] = _DEAD
            self._dead += len(rows)
        return len(rows)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) for each query row; missing slots have id -1."""
        query = np.ascontiguousarray(np.atleast_2d(query), dtype=np.float32)
        if not len(self):
            n = query.shape[0]
            return np.zeros((n, 0), dtype=np.float32), np.zeros((n, 0), dtype=np.int64)
        k = max(1, min(k, len(self)))
        _one_thread()
        if self._dead:
            # The id map wraps the selector, so it sees database ids: tombstones (-1) fall outside it.
            return self._index.search(query, k, params=_hnsw_params(max(HNSW_EF_SEARCH, k), live_only=True))
        if self.kind == HNSW_KIND and k > HNSW_EF_SEARCH:
            return self._index.search(query, k, params=_hnsw_params(k, live_only=False))
        return self._index.search(query, k)

    def vectors(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The stored vectors of `ids` (KeyError-free: unknown ids raise IndexMismatchError)."""
        if not len(ids):
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.kind == HNSW_KIND:
            try:
                rows = np.fromiter((self._rows[int(i)] for i in ids), dtype=np.int64, count=len(ids))
            except KeyError as exc:
                raise IndexMismatchError(f"id {exc.args[0]} is not in the index") from exc
            return self._graph().reconstruct_batch(rows)
        try:  # one call for all (ranking asks for a hundred candidates per query)
            return self._index.reconstruct_batch(np.asarray(ids, dtype=np.int64))
        except RuntimeError:
            pass
        out = np.zeros((len(ids), self.dimension), dtype=np.float32)
        for row, ident in enumerate(ids):
            try:
                out[row] = self._index.reconstruct(int(ident))
            except RuntimeError as exc:
                raise IndexMismatchError(f"id {ident} is not in the index") from exc
        return out

    def scores(self, query: np.ndarray, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        scored: np.ndarray = self.vectors(ids) @ np.asarray(query, dtype=np.float32)
        return scored

    def save(self, directory: Path, *, name: str, meta: IndexMeta) -> None:
        """Write `<name>.faiss` and `<name>.meta.json` atomically (temp file, then rename)."""
        directory.mkdir(parents=True, exist_ok=True)
        stamped = IndexMeta(**{**asdict(meta), "kind": self.kind, "built_at": meta.built_at or _now()})
        atomic_write(directory / f"{name}.faiss", faiss.serialize_index(self._index).tobytes())
        atomic_write(
            directory / f"{name}.meta.json",
            json.dumps(asdict(stamped), indent=2).encode("utf-8"),
        )

    @classmethod
    def load(
        cls, directory: Path, *, name: str, expected: IndexMeta, ann_threshold: int = ANN_THRESHOLD
    ) -> VectorIndex:
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
        # Any other kind has no id map (its searches would answer row numbers, not ids), or a sub-index
        # techmatch does not write.
        if isinstance(index, faiss.IndexIDMap2) and isinstance(faiss.downcast_index(index.index), faiss.IndexFlatIP):
            found_kind = FLAT_KIND
        elif isinstance(index, faiss.IndexIDMap) and isinstance(faiss.downcast_index(index.index), faiss.IndexHNSW):
            found_kind = HNSW_KIND
        else:
            raise IndexMismatchError(f"{index_path.name} holds a {type(index).__name__}, not an index techmatch writes")
        if found_kind != meta.kind:
            raise IndexMismatchError(f"{index_path.name} holds a {found_kind} index, its metadata says {meta.kind}")
        loaded = cls(expected.dimension, index=index, ann_threshold=ann_threshold)
        if index.d != expected.dimension or len(loaded) != expected.count:
            raise IndexMismatchError(
                f"{index_path.name} holds {len(loaded)} vectors of dimension {index.d}, "
                f"its metadata says {meta.count} of dimension {meta.dimension}"
            )
        return loaded


class FaissBackend:
    """Vector indexes in process, saved as `<side>.faiss` files with their metadata (the default)."""

    name = "faiss"
    in_process = True

    def __init__(self, *, ann_threshold: int = ANN_THRESHOLD) -> None:
        self.ann_threshold = ann_threshold

    def create(self, side: str, *, dimension: int) -> VectorIndex:
        return VectorIndex(dimension, ann_threshold=self.ann_threshold)

    def save(self, store: VectorStore, directory: Path, *, side: str, meta: IndexMeta) -> None:
        if not isinstance(store, VectorIndex):
            raise TypeError(f"the FAISS backend saves FAISS indexes, not {type(store).__name__}")
        store.save(directory, name=side, meta=meta)

    def load(self, directory: Path, *, side: str, expected: IndexMeta, ids: Collection[int]) -> VectorIndex:
        index = VectorIndex.load(directory, name=side, expected=expected, ann_threshold=self.ann_threshold)
        if set(index.ids().tolist()) != set(ids):
            raise IndexMismatchError(f"the saved {side} index holds other ids than the database")
        return index


def _empty_hnsw(dimension: int) -> faiss.IndexIDMap:
    # faiss's stubs name the quantizer type's enum a ScalarQuantizer; it is the int QT_fp16.
    graph = faiss.IndexHNSWSQ(
        dimension,
        faiss.ScalarQuantizer.QT_fp16,  # type: ignore[arg-type]
        HNSW_M,
        faiss.METRIC_INNER_PRODUCT,
    )
    graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    graph.hnsw.efSearch = HNSW_EF_SEARCH
    # IndexIDMap rather than IndexIDMap2: tombstones make an id map with holes, which IndexIDMap2's
    # reverse map could not follow; `VectorIndex._rows` is the reverse map instead.
    return faiss.IndexIDMap(graph)


def _hnsw_params(ef_search: int, *, live_only: bool) -> faiss.SearchParameters:
    params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]  # not in faiss's stubs
    params.efSearch = ef_search
    if live_only:
        params.sel = _LIVE
    result: faiss.SearchParameters = params
    return result


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
