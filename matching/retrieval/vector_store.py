"""The vector index interface: what a catalogue side needs from its dense index, and where such indexes live.

Two backends implement it: FAISS in process (`matching.retrieval.vector_index`) and pgvector in
PostgreSQL (`app.indexing.pgvector`, in the service, since it needs the database). The engine only
ever talks to these protocols, so the Matcher ranks the same way over either.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

# 2: a FAISS file may hold an IVF index (kind "ivf-sq8-ip") as well as the exact one.
FORMAT_VERSION = 2


@dataclass(frozen=True, slots=True)
class IndexMeta:
    """What an index holds; compared with what the caller expects before it is used."""

    model: str
    dimension: int
    count: int
    catalogue_version: int
    kind: str = "flat-ip"
    built_at: str = ""
    format_version: int = FORMAT_VERSION


@runtime_checkable
class VectorStore(Protocol):
    """Inner-product search (cosine on unit vectors) over int64 ids, the database's primary keys.

    `search` answers candidates; `scores` gives the cosine of a query with given ids, which fusion needs
    for candidates only BM25 found; `vectors` hands back stored vectors (a stored profile's own vector is
    its query). `upsert` replaces the vector of an id already present.
    """

    dimension: int

    @property
    def kind(self) -> str: ...

    def __len__(self) -> int: ...

    def ids(self) -> np.ndarray: ...

    def upsert(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None: ...

    def remove(self, ids: Iterable[int]) -> int: ...

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) for each query row, best first; missing slots have id -1."""
        ...

    def vectors(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The stored vectors of `ids`, row-aligned; an unknown id raises IndexMismatchError."""
        ...

    def scores(self, query: np.ndarray, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The inner product of one query vector with the stored vector of each id, row-aligned."""
        ...


class VectorBackend(Protocol):
    """Where a catalogue's vector indexes live, and how one is made, saved and loaded per side.

    `in_process` backends (FAISS) are built from vectors handed to them and saved as files beside the
    BM25 ones; the others (pgvector) hold vectors their writers put there in the database's own
    transactions, so the catalogue attaches to them instead of building them, and saving is a no-op.
    """

    name: str
    in_process: bool

    def create(self, side: str, *, dimension: int) -> VectorStore:
        """An index for `side`: empty for an in-process backend, the side's stored vectors otherwise."""
        ...

    def save(self, store: VectorStore, directory: Path, *, side: str, meta: IndexMeta) -> None: ...

    def load(
        self,
        directory: Path,
        *,
        side: str,
        expected: IndexMeta,
        ids: Collection[int],
        changed: Collection[int] = frozenset(),
    ) -> VectorStore:
        """The saved index of `side`, or IndexMismatchError when it disagrees with `expected` or `ids`.

        `changed`: ids that changed after the saved version; the saved index may hold them or not, and
        the returned store does not (the caller adds them as they are now)."""
        ...
