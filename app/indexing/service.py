"""Bring the engine's index in line with the database: load the saved one, or rebuild it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.catalogue.records import all_need_records, all_technology_records, need_record, technology_record
from app.catalogue.repository import NeedRepository, TechnologyRepository
from app.core.database import unit_of_work
from app.core.errors import Conflict
from app.core.settings import Settings
from app.indexing.embeddings import (
    ProgressCallback,
    missing_count,
    need_vectors,
    technology_vectors,
    vectors_for_texts,
)
from app.indexing.pgvector import PgVectorBackend
from app.indexing.state import CatalogueStateRepository
from matching.errors import IndexMismatchError
from matching.matcher import Matcher
from matching.retrieval.texts import need_text, technology_text
from matching.types import Need, Technology

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SyncResult:
    outcome: Literal["loaded", "rebuilt"]
    reason: str
    technologies: int
    needs: int
    catalogue_version: int


def use_vector_backend(matcher: Matcher, *, settings: Settings, engine: Engine) -> None:
    """Keep the matcher's vectors where the settings say: FAISS in process (the engine's default) or pgvector."""
    if settings.vector_backend != "pgvector":
        return
    backend = PgVectorBackend(engine, model=matcher.encoder.name, dimension=matcher.encoder.dimension)
    with engine.connect() as connection:
        backend.check(connection)
    matcher.catalogue.use_backend(backend)


def close_vector_backend(matcher: Matcher) -> None:
    """Let go of the database connections the matcher's vector backend holds (at shutdown)."""
    backend = matcher.catalogue.backend
    if isinstance(backend, PgVectorBackend):
        backend.close()


def sync_vector_tables(
    session: Session,
    *,
    backend: PgVectorBackend,
    matcher: Matcher,
    technologies: list[Technology],
    needs: list[Need],
    batch_size: int = 64,
    on_encoded: ProgressCallback | None = None,
    on_missing: ProgressCallback | None = None,
) -> tuple[int, int]:
    """Bring both pgvector tables in line with the rows, in `session`'s transaction: (written, removed)."""
    sides = (
        ("technologies", [t.id for t in technologies], [technology_text(t) for t in technologies]),
        ("needs", [n.id for n in needs], [need_text(n) for n in needs]),
    )
    if on_missing is not None:
        on_missing(missing_count(session, encoder=matcher.encoder, texts=[t for _, _, texts in sides for t in texts]))
    written = removed = 0
    for side, ids, texts in sides:
        by_id = dict(zip(ids, texts, strict=True))

        def vectors_for(wanted: Sequence[int], by_id: dict[int, str] = by_id) -> np.ndarray:
            return vectors_for_texts(
                session,
                encoder=matcher.encoder,
                texts=[by_id[i] for i in wanted],
                batch_size=batch_size,
                on_encoded=on_encoded,
            )

        changes = backend.sync(session, side=side, ids=ids, texts=texts, vectors_for=vectors_for)
        written, removed = written + changes.written, removed + changes.removed
    return written, removed


def sync_index(
    session: Session,
    *,
    matcher: Matcher,
    index_dir: Path,
    batch_size: int = 64,
    on_encoded: ProgressCallback | None = None,
    on_missing: ProgressCallback | None = None,
) -> SyncResult:
    """Load the saved index if it matches the database, else rebuild it from stored embeddings.

    A rebuild encodes only texts without a cached vector (`on_missing` is told how many first),
    then saves the index; the caller commits the new embeddings.
    """
    technologies = all_technology_records(session)
    needs = all_need_records(session)
    version = CatalogueStateRepository(session).version()
    backend = matcher.catalogue.backend
    if isinstance(backend, PgVectorBackend):
        # The vectors live beside the rows: made current here, in this transaction; BM25 as below.
        written, removed = sync_vector_tables(
            session,
            backend=backend,
            matcher=matcher,
            technologies=technologies,
            needs=needs,
            batch_size=batch_size,
            on_encoded=on_encoded,
            on_missing=on_missing,
        )
        if matcher.catalogue.load(index_dir, technologies=technologies, needs=needs, catalogue_version=version):
            matcher.catalogue.save(index_dir, catalogue_version=version, vectors=False)
        if not written and not removed:
            return SyncResult("loaded", "", len(technologies), len(needs), version)
        reason = f"the vector tables disagreed with the rows: {written} vectors written, {removed} removed"
        return SyncResult("rebuilt", reason, len(technologies), len(needs), version)
    try:
        lexical_rebuilt = matcher.catalogue.load(
            index_dir, technologies=technologies, needs=needs, catalogue_version=version
        )
    except IndexMismatchError as exc:
        reason = str(exc)
        logger.info("rebuilding the index: %s", reason)
    else:
        if lexical_rebuilt:
            # The vectors were good but a BM25 file was not: save it so the next start-up loads it.
            matcher.catalogue.save(index_dir, catalogue_version=version, vectors=False)
        return SyncResult("loaded", "", len(technologies), len(needs), version)

    if on_missing is not None:
        texts = [technology_text(t) for t in technologies] + [need_text(n) for n in needs]
        on_missing(missing_count(session, encoder=matcher.encoder, texts=texts))
    encoder = matcher.encoder
    matcher.catalogue.build(
        technologies=technologies,
        technology_vectors=technology_vectors(
            session,
            encoder=encoder,
            technologies=technologies,
            batch_size=batch_size,
            on_encoded=on_encoded,
        ),
        needs=needs,
        need_vectors=need_vectors(session, encoder=encoder, needs=needs, batch_size=batch_size, on_encoded=on_encoded),
    )
    matcher.catalogue.save(index_dir, catalogue_version=version)
    return SyncResult("rebuilt", reason, len(technologies), len(needs), version)


def save_index(session: Session, *, matcher: Matcher, index_dir: Path) -> None:
    """Save the in-memory index stamped with the database's current catalogue version, and the cached
    sentence and query vectors beside it (so a restart does not encode them again)."""
    matcher.catalogue.save(index_dir, catalogue_version=CatalogueStateRepository(session).version())
    matcher.save_vector_caches(index_dir)


# An online rebuild catches up with writes committed while it ran by rebuilding again; past this
# many rounds it repairs by id only and leaves the saved index stale (the next start-up repairs it).
REBUILD_ROUNDS = 3


@dataclass(frozen=True, slots=True)
class RebuildResult:
    technologies: int
    needs: int
    catalogue_version: int
    rounds: int
    saved: bool
    seconds: float


class IndexRebuilder:
    """Rebuilds a serving matcher's index from stored embeddings, one rebuild at a time.

    `CatalogueIndex.build` makes the new index off to the side and swaps it in under the matcher's lock,
    so queries keep answering from the old index until the swap. Writes committed during the build
    were applied to the old index and would be lost by the swap: the catalogue version, read before
    the snapshot and again after the swap, tells whether any happened, and then the build repeats.
    """

    def __init__(self) -> None:
        self._running = threading.Lock()

    @property
    def running(self) -> bool:
        return self._running.locked()

    def rebuild(
        self,
        factory: sessionmaker[Session],
        *,
        matcher: Matcher,
        index_dir: Path,
        batch_size: int = 64,
    ) -> RebuildResult:
        return self.run(lambda: _rebuild(factory, matcher=matcher, index_dir=index_dir, batch_size=batch_size))

    def run(self, work: Callable[[], RebuildResult]) -> RebuildResult:
        """Run `work` (a rebuild) unless one is already running (409)."""
        if not self._running.acquire(blocking=False):
            raise Conflict("an index rebuild is already running")
        try:
            return work()
        finally:
            self._running.release()


def _rebuild(factory: sessionmaker[Session], *, matcher: Matcher, index_dir: Path, batch_size: int) -> RebuildResult:
    started = time.perf_counter()
    for round_number in range(1, REBUILD_ROUNDS + 1):
        with unit_of_work(factory) as session:
            # Version first: a write that lands between the two reads makes the version look old,
            # which only causes one more round, never a missed write.
            before = CatalogueStateRepository(session).version()
            technologies = all_technology_records(session)
            needs = all_need_records(session)
            encoder = matcher.encoder
            backend = matcher.catalogue.backend
            if isinstance(backend, PgVectorBackend):
                sync_vector_tables(
                    session,
                    backend=backend,
                    matcher=matcher,
                    technologies=technologies,
                    needs=needs,
                    batch_size=batch_size,
                )
            else:
                matcher.catalogue.build(
                    technologies=technologies,
                    technology_vectors=technology_vectors(
                        session, encoder=encoder, technologies=technologies, batch_size=batch_size
                    ),
                    needs=needs,
                    need_vectors=need_vectors(session, encoder=encoder, needs=needs, batch_size=batch_size),
                )
        if isinstance(backend, PgVectorBackend):
            # Records and BM25 over the tables just committed.
            matcher.catalogue.attach(technologies=technologies, needs=needs)
        with unit_of_work(factory) as session:
            after = CatalogueStateRepository(session).version()
        if after == before:
            with unit_of_work(factory) as session:
                save_index(session, matcher=matcher, index_dir=index_dir)
            return RebuildResult(
                len(technologies), len(needs), before, round_number, True, time.perf_counter() - started
            )
        logger.info("catalogue changed during the rebuild (%d -> %d): building again", before, after)
    with unit_of_work(factory) as session:
        reconcile_index(session, matcher=matcher, batch_size=batch_size)
        version = CatalogueStateRepository(session).version()
    return RebuildResult(
        matcher.catalogue.technology_count,
        matcher.catalogue.need_count,
        version,
        REBUILD_ROUNDS,
        False,
        time.perf_counter() - started,
    )


def reconcile_index(session: Session, *, matcher: Matcher, batch_size: int = 64) -> tuple[int, int]:
    """Add what the database holds and the index lacks, drop what the database no longer holds.

    Compares ids only; vectors come from the embeddings table. Returns (added, removed).
    """
    added = removed = 0
    technology_rows = {row.id: row for row in TechnologyRepository(session).all()}
    need_rows = {row.id: row for row in NeedRepository(session).all()}
    in_index = matcher.catalogue.technology_ids()
    missing_technologies = [technology_record(technology_rows[i]) for i in sorted(technology_rows.keys() - in_index)]
    if missing_technologies:
        matcher.catalogue.upsert_technologies(
            missing_technologies,
            technology_vectors(
                session, encoder=matcher.encoder, technologies=missing_technologies, batch_size=batch_size
            ),
        )
    extra = in_index - technology_rows.keys()
    matcher.catalogue.remove_technologies(extra)
    added, removed = len(missing_technologies), len(extra)
    in_index = matcher.catalogue.need_ids()
    missing_needs = [need_record(need_rows[i]) for i in sorted(need_rows.keys() - in_index)]
    if missing_needs:
        matcher.catalogue.upsert_needs(
            missing_needs,
            need_vectors(session, encoder=matcher.encoder, needs=missing_needs, batch_size=batch_size),
        )
    extra = in_index - need_rows.keys()
    matcher.catalogue.remove_needs(extra)
    return added + len(missing_needs), removed + len(extra)


@dataclass(frozen=True, slots=True)
class Readiness:
    # Each problem's message names no count and no tenant's data: /readyz shows it to anyone.
    problems: list[dict[str, Any]]
    model: str | None


def readiness(session: Session, *, matcher: Matcher | None, start_error: str | None = None) -> Readiness:
    """What keeps the service from answering correctly: no model or index, or an index that disagrees
    with the database (counted over every tenant: the index is one; the numbers go to the log)."""
    if matcher is None:
        message = "start-up failed" if start_error else "the model and index are not loaded"
        problem = {"location": ["model"], "message": message}
        return Readiness(problems=[problem], model=None)
    problems: list[dict[str, Any]] = []
    for name, in_index, in_database in (
        ("technologies", matcher.catalogue.technology_count, TechnologyRepository(session).count()),
        ("needs", matcher.catalogue.need_count, NeedRepository(session).count()),
    ):
        if in_index != in_database:
            logger.warning("not ready: the index holds %d %s, the database %d", in_index, name, in_database)
            message = f"the index and the database disagree on {name}; POST /api/v1/admin/index/rebuild repairs it"
            problems.append({"location": ["index", name], "message": message})
    return Readiness(problems=problems, model=matcher.encoder.name)


def tenant_counts(session: Session, *, tenant: str, shared: bool) -> dict[str, int]:
    """What one tenant has in the catalogue: the technologies it can see, its own needs."""
    technologies = TechnologyRepository(session).count(tenant=None if shared else tenant)
    return {"technologies": technologies, "needs": NeedRepository(session).count(tenant=tenant)}


def tenant_counts_of(factory: sessionmaker[Session], *, tenant: str, shared: bool) -> dict[str, int]:
    with unit_of_work(factory) as session:
        return tenant_counts(session, tenant=tenant, shared=shared)
