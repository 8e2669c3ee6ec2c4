"""Bulk reads and writes of the batch jobs: cached vectors by hash, decided pairs, proposed matches per need."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from app.core.queries import chunks
from app.models import Embedding, Match, MatchStatus, Need, Technology, utcnow

_IN_CHUNK = 5000


class BatchRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def cached_hashes(self, *, model: str, dimension: int, text_hashes: Collection[str]) -> set[str]:
        """The hashes among `text_hashes` with a stored vector of this model and dimension."""
        found: set[str] = set()
        for chunk in chunks(sorted(text_hashes), _IN_CHUNK):
            query = select(Embedding.text_hash).where(
                Embedding.model == model, Embedding.dimension == dimension, Embedding.text_hash.in_(chunk)
            )
            found.update(self.session.scalars(query))
        return found

    def insert_vectors(self, *, model: str, hashes: Sequence[str], vectors: np.ndarray) -> int:
        """Store vectors not stored yet (idempotent: a hash already there, from an earlier or concurrent run,
        is left as it is); returns how many rows were written."""
        present = {
            digest
            for chunk in chunks(list(hashes), _IN_CHUNK)
            for digest in self.session.scalars(
                select(Embedding.text_hash).where(Embedding.model == model, Embedding.text_hash.in_(chunk))
            )
        }
        now = utcnow()
        rows = [
            {
                "model": model,
                "text_hash": digest,
                "dimension": int(vector.shape[0]),
                "vector": np.asarray(vector, dtype="<f4").tobytes(),
                "created_at": now,
            }
            for digest, vector in zip(hashes, vectors, strict=True)
            if digest not in present
        ]
        if rows:
            self.session.execute(insert(Embedding), rows)
        return len(rows)

    def decided(self) -> dict[int, set[int]]:
        """Need id -> technologies a curator approved or rejected for it (never proposed again)."""
        decided: dict[int, set[int]] = {}
        query = select(Match.need_id, Match.technology_id).where(Match.status != MatchStatus.proposed)
        for need_id, technology_id in self.session.execute(query):
            decided.setdefault(need_id, set()).add(technology_id)
        return decided

    def tenants_of_needs(self) -> dict[int, str]:
        return {ident: tenant for ident, tenant in self.session.execute(select(Need.id, Need.tenant))}

    def technology_tenants(self) -> dict[int, str]:
        return {ident: tenant for ident, tenant in self.session.execute(select(Technology.id, Technology.tenant))}

    def replace_proposed(self, proposals: dict[int, list[tuple[int, float, dict[str, Any]]]]) -> int:
        """For each need: its proposed rows replaced by `proposals` (technology, score, components), a pair a
        curator decided meanwhile left out, and ranks 1.. again over approved and proposed rows by score.
        Returns the rows written."""
        need_ids = sorted(proposals)
        if not need_ids:
            return 0
        for chunk in chunks(need_ids, _IN_CHUNK):
            self.session.execute(delete(Match).where(Match.need_id.in_(chunk), Match.status == MatchStatus.proposed))
        kept: dict[int, list[tuple[int, int, float, int, MatchStatus]]] = {}
        for chunk in chunks(need_ids, _IN_CHUNK):
            query = select(Match.id, Match.need_id, Match.technology_id, Match.score, Match.rank, Match.status).where(
                Match.need_id.in_(chunk)
            )
            for ident, need_id, technology_id, score, rank, status in self.session.execute(query):
                kept.setdefault(need_id, []).append((ident, technology_id, score, rank, status))
        now = utcnow()
        fresh: list[dict[str, Any]] = []
        renumbered: list[dict[str, Any]] = []
        for need_id in need_ids:
            decided = {row[1] for row in kept.get(need_id, [])}
            # (score, technology, row id and rank of a kept row, or None for a fresh proposal)
            live: list[tuple[float, int, int | None, int | None]] = [
                (score, technology_id, ident, rank)
                for ident, technology_id, score, rank, status in kept.get(need_id, [])
                if status != MatchStatus.rejected
            ]
            live += [
                (score, technology_id, None, None)
                for technology_id, score, _ in proposals[need_id]
                if technology_id not in decided
            ]
            components = {technology_id: parts for technology_id, _, parts in proposals[need_id]}
            for new_rank, (score, technology_id, row_id, old_rank) in enumerate(
                sorted(live, key=lambda entry: (-entry[0], entry[1])), start=1
            ):
                if row_id is None:
                    fresh.append(
                        {
                            "need_id": need_id,
                            "technology_id": technology_id,
                            "score": score,
                            "rank": new_rank,
                            "components": components[technology_id],
                            "explanation": None,
                            "status": MatchStatus.proposed,
                            "review_version": 0,
                            "explanation_edited": False,
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
                elif old_rank != new_rank:
                    renumbered.append({"id": row_id, "rank": new_rank, "updated_at": now})
        if fresh:
            self.session.execute(insert(Match), fresh)
        if renumbered:
            # ORM bulk UPDATE by primary key: one executemany, no rows loaded.
            self.session.execute(update(Match), renumbered)
        return len(fresh)


def components_of(text: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(text)
    return parsed
