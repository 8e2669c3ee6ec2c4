"""FAISS vector index with int64 ids (database keys): exact when small, IVF when large; saved with checked metadata."""

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
    "IVF_KIND",
    "FaissBackend",
    "IndexMeta",
    "VectorIndex",
]

FLAT_KIND = "flat-ip"
IVF_KIND = "ivf-sq8-ip"
# Catalogues up to this size are searched exactly. Measured on the two-core machine (one query,
# 384 dimensions, one thread, busy machine): exact 4.9 ms at 10,000 vectors, 13.5 ms at 20,000,
# 40 ms at 50,000; IVF 0.06-1.7 ms. Past about 20,000 an exact search costs more than encoding
# the query (about 7 ms), so the approximate index starts to pay for its recall of 0.98.
ANN_THRESHOLD = 20_000
# Vectors are added to an IVF index this many at a time, so a build never copies the whole set.
ADD_CHUNK = 65_536
# Searches are single queries arriving on many request threads: OpenMP's parallel loop over one
# query only adds barrier waits (on a busy two-core machine a flat search of 3,000 vectors took 40 ms
# with two threads and under 1 ms with one). Training and bulk adds use every core (`_all_cores`).
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

    Exact (`IndexFlatIP`) up to `ann_threshold` vectors; past it an inverted-file index with 8-bit
    scalar-quantised vectors (`IndexIVFScalarQuantizer`, sqrt(n) lists, `nprobe` of them searched):
    a quarter of the float32 bytes, so a million offers fit beside the model, at a recall@10 above
    0.95 and cosines within about 0.01 of the exact ones. Both kinds support adding,
    replacing and removing by id and reconstructing a stored vector (the IVF one through a hash
    table from id to list position), so fused ranking can score candidates only BM25 found.
    """

    def __init__(
        self,
        dimension: int,
        *,
        index: faiss.IndexIDMap2 | faiss.IndexIVF | None = None,
        ann_threshold: int = ANN_THRESHOLD,
    ) -> None:
        self.dimension = dimension
        self.ann_threshold = ann_threshold
        self._index: faiss.IndexIDMap2 | faiss.IndexIVF = (
            index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        )
        if isinstance(self._index, faiss.IndexIVF):
            # A saved file keeps the probe count it was written with; searches follow today's rule.
            self._index.nprobe = ivf_probes(self._index.nlist)

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
        index = cls(dimension, ann_threshold=ann_threshold)
        index.upsert(ids, vectors)
        return index

    @property
    def kind(self) -> str:
        return IVF_KIND if isinstance(self._index, faiss.IndexIVF) else FLAT_KIND

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> np.ndarray:
        if isinstance(self._index, faiss.IndexIVF):
            lists = self._index.invlists
            assert lists is not None, "an IVF index owns its inverted lists"
            parts = [
                faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
                for i in range(lists.nlist)
                if lists.list_size(i)
            ]
            return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def upsert(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
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
        if self.kind == FLAT_KIND and len(self) + len(ids_arr) > self.ann_threshold:
            self._become_ivf(ids_arr, vectors)
            return
        with _all_cores() if len(ids_arr) >= ADD_CHUNK // 4 else nullcontext():
            for start in range(0, len(ids_arr), ADD_CHUNK):
                self._index.add_with_ids(vectors[start : start + ADD_CHUNK], ids_arr[start : start + ADD_CHUNK])

    @classmethod
    def for_size(
        cls,
        dimension: int,
        *,
        count: int,
        sample: np.ndarray,
        ann_threshold: int = ANN_THRESHOLD,
    ) -> VectorIndex:
        """An empty index of the kind `count` vectors call for, trained on `sample` if that is IVF.

        For building large indexes chunk by chunk: `upsert` the chunks afterwards, so that memory
        holds the index and one chunk, never the whole set twice.
        """
        if count <= ann_threshold:
            return cls(dimension, ann_threshold=ann_threshold)
        return cls(dimension, index=_trained_ivf(dimension, count, sample), ann_threshold=ann_threshold)

    def _become_ivf(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Move to an IVF index trained on a sample of what it will hold, old vectors and new."""
        old_ids = self.ids()
        old = self.vectors(old_ids) if len(old_ids) else np.zeros((0, self.dimension), dtype=np.float32)
        total = len(old_ids) + len(ids)
        picks = np.sort(np.random.default_rng(0).choice(total, size=min(total, training_size(total)), replace=False))
        sample = np.concatenate([old[picks[picks < len(old)]], vectors[picks[picks >= len(old)] - len(old)]])
        self._index = _trained_ivf(self.dimension, total, sample)
        del sample
        with _all_cores():
            for part_ids, part in ((old_ids, old), (ids, vectors)):
                for start in range(0, len(part_ids), ADD_CHUNK):
                    self._index.add_with_ids(part[start : start + ADD_CHUNK], part_ids[start : start + ADD_CHUNK])

    def remove(self, ids: Iterable[int]) -> int:
        ids_arr = np.ascontiguousarray(np.fromiter((int(i) for i in ids), dtype=np.int64))
        if not len(ids_arr) or not len(self):
            return 0
        if isinstance(self._index, faiss.IndexIVF):
            # The id -> position hash table only accepts an explicit id array.
            return int(self._index.remove_ids(faiss.IDSelectorArray(len(ids_arr), faiss.swig_ptr(ids_arr))))
        return int(self._index.remove_ids(faiss.IDSelectorBatch(ids_arr)))

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) for each query row; missing slots have id -1."""
        query = np.ascontiguousarray(np.atleast_2d(query), dtype=np.float32)
        k = max(1, min(k, len(self))) if len(self) else 1
        if not len(self):
            n = query.shape[0]
            return np.zeros((n, 0), dtype=np.float32), np.zeros((n, 0), dtype=np.int64)
        _one_thread()
        return self._index.search(query, k)

    def scores(self, query: np.ndarray, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        scored: np.ndarray = self.vectors(ids) @ np.asarray(query, dtype=np.float32)
        return scored

    def vectors(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The stored vectors of `ids` (KeyError-free: unknown ids raise IndexMismatchError)."""
        if not len(ids):
            return np.zeros((0, self.dimension), dtype=np.float32)
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
        if index.d != expected.dimension or index.ntotal != expected.count:
            raise IndexMismatchError(
                f"{index_path.name} holds {index.ntotal} vectors of dimension {index.d}, "
                f"its metadata says {meta.count} of dimension {meta.dimension}"
            )
        if not isinstance(index, faiss.IndexIVF | faiss.IndexIDMap2):
            # Any other kind has no id map: its searches would answer row numbers, not ids.
            raise IndexMismatchError(f"{index_path.name} holds a {type(index).__name__}, not an index techmatch writes")
        found_kind = IVF_KIND if isinstance(index, faiss.IndexIVF) else FLAT_KIND
        if found_kind != meta.kind:
            raise IndexMismatchError(f"{index_path.name} holds a {found_kind} index, its metadata says {meta.kind}")
        return cls(expected.dimension, index=index, ann_threshold=ann_threshold)

    @staticmethod
    def saved_meta(directory: Path, *, name: str) -> IndexMeta | None:
        """The metadata of a saved index (what it holds, which catalogue version), or None when there is none
        readable; the index file itself is not read."""
        try:
            return IndexMeta(**json.loads((directory / f"{name}.meta.json").read_text("utf-8")))
        except (OSError, ValueError, TypeError):
            return None


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

    def load(
        self,
        directory: Path,
        *,
        side: str,
        expected: IndexMeta,
        ids: Collection[int],
        changed: Collection[int] = frozenset(),
    ) -> VectorIndex:
        index = VectorIndex.load(directory, name=side, expected=expected, ann_threshold=self.ann_threshold)
        held = set(index.ids().tolist())
        if held - set(changed) != set(ids) - set(changed):
            raise IndexMismatchError(f"the saved {side} index holds other ids than the database")
        if held & set(changed):
            index.remove(held & set(changed))
        return index


def _trained_ivf(dimension: int, count: int, sample: np.ndarray) -> faiss.IndexIVFScalarQuantizer:
    nlist = ivf_lists(count)
    quantizer = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, dimension, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    with _all_cores():
        index.train(np.ascontiguousarray(sample[: training_size(count)], dtype=np.float32))
    # id -> (list, offset): what remove_ids, reconstruct and so updates need with arbitrary ids.
    index.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]  # not in faiss's stubs
    index.nprobe = ivf_probes(nlist)
    return index


def training_size(count: int) -> int:
    """k-means sample: 64 points per list (faiss wants at least 39), so training stays seconds at 10^6."""
    return min(count, ivf_lists(count) * 64)


def ivf_lists(count: int) -> int:
    """Inverted lists for `count` vectors: about sqrt(n), so a list holds about sqrt(n) vectors."""
    return int(min(max(round(np.sqrt(count)), 16), 8192))


def ivf_probes(nlist: int) -> int:
    """Lists searched per query: 1/64 of them, at least 8.

    `scripts/bench.py index` at 10^6 clustered vectors (1,000 lists), recall@10 against exact search and
    time per query: 1 list 0.964, 2-62 lists 0.9775 (the 8-bit codes' ceiling), time growing with the
    lists scanned (0.6 ms at 1, 2.2 ms at 16, 11 ms at 62 on a busy two-core machine). 1/16 (62 lists,
    the rule before) bought no recall for four times the scan. At least 8: real embeddings cluster less
    cleanly than the benchmark's mixture.
    """
    return min(nlist, max(8, nlist // 64))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
