"""The searchable catalogue: per side (technologies, needs) the records, their texts, dense vectors and BM25."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np

from matching.errors import IndexMismatchError
from matching.retrieval.bm25 import LexicalIndex
from matching.retrieval.texts import need_text, technology_text
from matching.retrieval.vector_index import FaissBackend, VectorIndex
from matching.retrieval.vector_store import IndexMeta, VectorBackend, VectorStore
from matching.types import Need, Technology

logger = logging.getLogger(__name__)

Record = TypeVar("Record", Technology, Need)
SIDES = ("technologies", "needs")


class Side(Generic[Record]):
    """One searchable side: records, their texts, dense vectors and BM25, kept row for row."""

    def __init__(self, *, vectors: VectorStore, to_text: Callable[[Record], str]) -> None:
        self.records: dict[int, Record] = {}
        self.texts: dict[int, str] = {}
        self.vectors: VectorStore = vectors
        self.lexical = LexicalIndex()
        self.to_text: Callable[[Record], str] = to_text

    def attach(self, records: Sequence[Record]) -> None:
        """Take `records` over vectors the store already holds (a database-backed store): texts and BM25 only."""
        self.records = {r.id: r for r in records}
        self.texts = {r.id: self.to_text(r) for r in records}
        self.lexical.upsert(list(self.texts), list(self.texts.values()))

    def upsert(self, records: Sequence[Record], vectors: np.ndarray) -> None:
        ids = [r.id for r in records]
        texts = [self.to_text(r) for r in records]
        self.vectors.upsert(ids, vectors)
        self.lexical.upsert(ids, texts)
        for record, text in zip(records, texts, strict=True):
            self.records[record.id] = record
            self.texts[record.id] = text

    def remove(self, ids: Collection[int]) -> None:
        self.vectors.remove(ids)
        self.lexical.remove(ids)
        for ident in ids:
            self.records.pop(ident, None)
            self.texts.pop(ident, None)


def technology_side(dimension: int, backend: VectorBackend | None = None) -> Side[Technology]:
    vectors = (backend or FaissBackend()).create("technologies", dimension=dimension)
    return Side(vectors=vectors, to_text=technology_text)


def need_side(dimension: int, backend: VectorBackend | None = None) -> Side[Need]:
    return Side(vectors=(backend or FaissBackend()).create("needs", dimension=dimension), to_text=need_text)


class SavedCatalogue:
    """Writes both sides to one directory and reads them back, checked against the database's records.

    Vectors go where the backend keeps them (FAISS: `<side>.faiss` with their metadata: model, dimension,
    count, catalogue version); BM25 to `<side>.bm25.npz`. Loading refuses vectors that disagree with the
    records; a BM25 file that disagrees is rebuilt from the texts instead, since that needs no model.
    """

    def __init__(self, *, model: str, dimension: int, backend: VectorBackend | None = None) -> None:
        self.model = model
        self.dimension = dimension
        self.backend: VectorBackend = backend or FaissBackend()

    def meta(self, count: int, catalogue_version: int) -> IndexMeta:
        return IndexMeta(model=self.model, dimension=self.dimension, count=count, catalogue_version=catalogue_version)

    def save(
        self,
        directory: Path,
        *,
        technologies: Side[Technology],
        needs: Side[Need],
        catalogue_version: int,
        vectors: bool = True,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        both: tuple[Side[Technology] | Side[Need], ...] = (technologies, needs)
        for name, side in zip(SIDES, both, strict=True):
            if vectors:
                meta = self.meta(len(side.vectors), catalogue_version)
                self.backend.save(side.vectors, directory, side=name, meta=meta)
            side.lexical.save(directory / f"{name}.bm25.npz", catalogue_version=catalogue_version)

    def load(
        self,
        directory: Path,
        *,
        technologies: Sequence[Technology],
        needs: Sequence[Need],
        catalogue_version: int,
        changed_technologies: Collection[int] = frozenset(),
        changed_needs: Collection[int] = frozenset(),
    ) -> tuple[Side[Technology], Side[Need], list[str]]:
        """Both sides from the saved files (or IndexMismatchError), and the names whose BM25 was rebuilt.

        `changed_*`: ids that changed since `catalogue_version` (the saved files may hold them in an older
        form, or not at all); they are left out of the loaded sides, for the caller to add as they are now.
        """
        rebuilt: list[str] = []
        technology = self._load_side(
            directory,
            technology_text,
            technologies,
            "technologies",
            catalogue_version,
            rebuilt,
            frozenset(changed_technologies),
        )
        need = self._load_side(
            directory, need_text, needs, "needs", catalogue_version, rebuilt, frozenset(changed_needs)
        )
        return technology, need, rebuilt

    def saved_meta(self, directory: Path) -> IndexMeta | None:
        """What the saved files hold (model, catalogue version), or None when there are none of this model
        and dimension or their sides disagree on the version."""
        metas = [VectorIndex.saved_meta(directory, name=name) for name in SIDES]
        first = metas[0]
        if first is None or first.model != self.model or first.dimension != self.dimension:
            return None
        if any(meta is None or meta.catalogue_version != first.catalogue_version for meta in metas):
            return None
        return first

    def _load_side(
        self,
        directory: Path,
        to_text: Callable[[Record], str],
        records: Sequence[Record],
        name: str,
        catalogue_version: int,
        rebuilt: list[str],
        changed: frozenset[int] = frozenset(),
    ) -> Side[Record]:
        wanted = {r.id for r in records} - changed
        count = len(records)
        if changed:
            saved = VectorIndex.saved_meta(directory, name=name)
            count = saved.count if saved is not None else count
        # The backend checks the ids it holds against `wanted` and drops the changed ones it holds.
        vectors = self.backend.load(
            directory, side=name, expected=self.meta(count, catalogue_version), ids=wanted, changed=changed
        )
        records = [r for r in records if r.id not in changed]
        side = Side(vectors=vectors, to_text=to_text)
        side.texts = {r.id: side.to_text(r) for r in records}
        try:
            lexical = LexicalIndex.load(
                directory / f"{name}.bm25.npz", count=count, catalogue_version=catalogue_version
            )
            lexical_ids = set(lexical.ids().tolist())
            if lexical_ids - changed != wanted:
                raise IndexMismatchError(f"the saved {name} BM25 index holds other ids than the database")
            if lexical_ids & changed:
                lexical.remove(lexical_ids & changed)
            side.lexical = lexical
        except IndexMismatchError as exc:
            logger.info("rebuilding the %s BM25 index: %s", name, exc)
            side.lexical.upsert(list(side.texts), list(side.texts.values()))
            rebuilt.append(name)
        side.records = {r.id: r for r in records}
        return side


class CatalogueIndex:
    """Both sides in memory behind one lock: what the service keeps in step with the database.

    Readers take `lock` while they search a side; writers swap or change sides under it.
    """

    def __init__(self, *, model: str, dimension: int, backend: VectorBackend | None = None) -> None:
        self.lock = threading.RLock()
        self.dimension = dimension
        self.backend: VectorBackend = backend or FaissBackend()
        self.technologies: Side[Technology] = technology_side(dimension, self.backend)
        self.needs: Side[Need] = need_side(dimension, self.backend)
        self.saved = SavedCatalogue(model=model, dimension=dimension, backend=self.backend)

    def use_backend(self, backend: VectorBackend) -> None:
        """Keep vectors in `backend` from now on; both sides start empty (load, build or attach next)."""
        with self.lock:
            self.backend = backend
            self.saved.backend = backend
            self.technologies = technology_side(self.dimension, backend)
            self.needs = need_side(self.dimension, backend)

    @property
    def technology_count(self) -> int:
        return len(self.technologies.vectors)

    @property
    def need_count(self) -> int:
        return len(self.needs.vectors)

    def technology_ids(self) -> set[int]:
        with self.lock:
            return set(self.technologies.records)

    def need_ids(self) -> set[int]:
        with self.lock:
            return set(self.needs.records)

    def need_vectors(self, ids: Collection[int]) -> dict[int, np.ndarray]:
        """The indexed vectors of those of `ids` that are stored needs."""
        with self.lock:
            present = [i for i in ids if i in self.needs.records]
            return dict(zip(present, self.needs.vectors.vectors(present), strict=True)) if present else {}

    def build(
        self,
        *,
        technologies: Sequence[Technology],
        technology_vectors: np.ndarray,
        needs: Sequence[Need],
        need_vectors: np.ndarray,
    ) -> None:
        """Replace both sides with these records (vectors row-aligned with them)."""
        fresh_technologies = technology_side(self.dimension, self.backend)
        fresh_needs = need_side(self.dimension, self.backend)
        fresh_technologies.upsert(technologies, technology_vectors)
        fresh_needs.upsert(needs, need_vectors)
        with self.lock:
            self.technologies, self.needs = fresh_technologies, fresh_needs

    def attach(self, *, technologies: Sequence[Technology], needs: Sequence[Need]) -> None:
        """Replace both sides' records, texts and BM25 over the vectors a database-backed backend already
        holds (its writers put them there in the database's transactions), building no vector index."""
        if self.backend.in_process:
            raise ValueError(f"the {self.backend.name} backend holds no vectors of its own: build it instead")
        fresh_technologies = technology_side(self.dimension, self.backend)
        fresh_needs = need_side(self.dimension, self.backend)
        fresh_technologies.attach(technologies)
        fresh_needs.attach(needs)
        with self.lock:
            self.technologies, self.needs = fresh_technologies, fresh_needs

    def upsert_technologies(self, technologies: Sequence[Technology], vectors: np.ndarray) -> None:
        with self.lock:
            self.technologies.upsert(technologies, vectors)

    def remove_technologies(self, ids: Collection[int]) -> None:
        with self.lock:
            self.technologies.remove(ids)

    def upsert_needs(self, needs: Sequence[Need], vectors: np.ndarray) -> None:
        with self.lock:
            self.needs.upsert(needs, vectors)

    def remove_needs(self, ids: Collection[int]) -> None:
        with self.lock:
            self.needs.remove(ids)

    def saved_meta(self, directory: Path) -> IndexMeta | None:
        """What the index saved in `directory` holds (see `SavedCatalogue.saved_meta`)."""
        return self.saved.saved_meta(directory)

    def save(self, directory: Path, *, catalogue_version: int, vectors: bool = True) -> None:
        """Write both sides; `vectors=False` writes only the BM25 files (`<name>.bm25.npz`)."""
        with self.lock:
            self.saved.save(
                directory,
                technologies=self.technologies,
                needs=self.needs,
                catalogue_version=catalogue_version,
                vectors=vectors,
            )

    def load(
        self,
        directory: Path,
        *,
        technologies: Sequence[Technology],
        needs: Sequence[Need],
        catalogue_version: int,
        changed_technologies: Collection[int] = frozenset(),
        changed_needs: Collection[int] = frozenset(),
    ) -> list[str]:
        """Take the saved vectors for these records, or raise IndexMismatchError and change nothing.

        A saved BM25 index that is missing, outdated or damaged is rebuilt from the texts instead;
        returns the names of the sides whose BM25 was rebuilt (so the caller can save them). Ids in
        `changed_*` are left out (see `SavedCatalogue.load`): the caller upserts them afterwards.
        """
        technology_index, need_index, rebuilt = self.saved.load(
            directory,
            technologies=technologies,
            needs=needs,
            catalogue_version=catalogue_version,
            changed_technologies=changed_technologies,
            changed_needs=changed_needs,
        )
        with self.lock:
            self.technologies, self.needs = technology_index, need_index
        return rebuilt
