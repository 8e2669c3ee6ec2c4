"""Bulk reads and writes of the embedding cache as plain columns, not ORM objects (10^5 rows at start-up)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.core.queries import chunks
from app.models import Embedding

# Bound parameters per IN clause: well under SQLite's limit, few round trips for 10^5 hashes.
_IN_CHUNK = 5000


class EmbeddingStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def vectors(self, *, model: str, text_hashes: Collection[str]) -> dict[str, tuple[int, bytes]]:
        """text hash -> (dimension, float32 bytes) for the cached ones among `text_hashes`."""
        found: dict[str, tuple[int, bytes]] = {}
        columns = (Embedding.text_hash, Embedding.dimension, Embedding.vector)
        for chunk in chunks(sorted(text_hashes), _IN_CHUNK):
            query = select(*columns).where(Embedding.model == model, Embedding.text_hash.in_(chunk))
            for digest, dimension, vector in self.session.execute(query):
                found[digest] = (dimension, vector)
        return found

    def dimensions(self, *, model: str, text_hashes: Collection[str]) -> dict[str, int]:
        """text hash -> dimension of the cached ones (no vector bytes read)."""
        found: dict[str, int] = {}
        for chunk in chunks(sorted(text_hashes), _IN_CHUNK):
            query = select(Embedding.text_hash, Embedding.dimension).where(
                Embedding.model == model, Embedding.text_hash.in_(chunk)
            )
            found.update({digest: dimension for digest, dimension in self.session.execute(query)})
        return found

    def insert(self, rows: Sequence[dict[str, Any]]) -> None:
        """One executemany INSERT for new (model, text_hash, dimension, vector) rows; a row another writer
        stored meanwhile is left as it is (same model, same text: the same vector), not a unique violation."""
        if not rows:
            return
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            statement: Any = postgresql.insert(Embedding)
        elif dialect == "sqlite":
            statement = sqlite.insert(Embedding)
        else:
            self.session.execute(insert(Embedding), list(rows))
            return
        self.session.execute(statement.on_conflict_do_nothing(index_elements=["model", "text_hash"]), list(rows))

    def replace(self, *, model: str, text_hash: str, dimension: int, vector: bytes) -> None:
        """Overwrite a cached vector whose dimension no longer fits the model of that name."""
        self.session.execute(
            update(Embedding)
            .where(Embedding.model == model, Embedding.text_hash == text_hash)
            .values(dimension=dimension, vector=vector)
        )
