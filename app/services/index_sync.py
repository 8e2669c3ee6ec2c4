"""Bring the engine's index in line with the database: load the saved one, or rebuild it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.orm import Session

from app.repositories import CatalogueStateRepository, NeedRepository, TechnologyRepository
from app.services.embeddings import (
    ProgressCallback,
    missing_count,
    need_vectors,
    technology_vectors,
)
from app.services.records import need_record, technology_record
from matching.engine import Matcher
from matching.errors import IndexMismatchError
from matching.text import need_text, technology_text

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SyncResult:
    outcome: Literal["loaded", "rebuilt"]
    reason: str
    technologies: int
    needs: int
    catalogue_version: int


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
    technologies = [technology_record(row) for row in TechnologyRepository(session).all()]
    needs = [need_record(row) for row in NeedRepository(session).all()]
    version = CatalogueStateRepository(session).version()
    try:
        matcher.load(index_dir, technologies=technologies, needs=needs, catalogue_version=version)
    except IndexMismatchError as exc:
        reason = str(exc)
        logger.info("rebuilding the index: %s", reason)
    else:
        return SyncResult("loaded", "", len(technologies), len(needs), version)

    if on_missing is not None:
        texts = [technology_text(t) for t in technologies] + [need_text(n) for n in needs]
        on_missing(missing_count(session, encoder=matcher.encoder, texts=texts))
    encoder = matcher.encoder
    matcher.build(
        technologies=technologies,
        technology_vectors=technology_vectors(
            session, encoder=encoder, technologies=technologies, batch_size=batch_size,
            on_encoded=on_encoded,
        ),
        needs=needs,
        need_vectors=need_vectors(
            session, encoder=encoder, needs=needs, batch_size=batch_size, on_encoded=on_encoded
        ),
    )
    matcher.save(index_dir, catalogue_version=version)
    return SyncResult("rebuilt", reason, len(technologies), len(needs), version)


def save_index(session: Session, *, matcher: Matcher, index_dir: Path) -> None:
    """Save the in-memory index stamped with the database's current catalogue version."""
    matcher.save(index_dir, catalogue_version=CatalogueStateRepository(session).version())


@dataclass(frozen=True, slots=True)
class Readiness:
    problems: list[dict[str, Any]]
    counts: dict[str, Any]


def readiness(session: Session, *, matcher: Matcher | None) -> Readiness:
    """What keeps the service from answering correctly: no model or index, or counts that differ."""
    if matcher is None:
        problem = {"location": ["model"], "message": "the model and index are not loaded"}
        return Readiness(problems=[problem], counts={})
    counts: dict[str, Any] = {"model": matcher.encoder.name}
    problems: list[dict[str, Any]] = []
    for name, in_index, in_database in (
        ("technologies", matcher.technology_count, TechnologyRepository(session).count()),
        ("needs", matcher.need_count, NeedRepository(session).count()),
    ):
        counts[name] = in_database
        if in_index != in_database:
            problems.append({
                "location": ["index", name],
                "message": f"the index holds {in_index} {name}, the database {in_database}",
            })
    return Readiness(problems=problems, counts=counts)
