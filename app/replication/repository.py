"""Queries of the change log: append in the writer's transaction, read what came after a version, prune."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.models import CatalogueChange, ChangeKind


class ChangeLogRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def append(
        self, *, version: int, kind: ChangeKind, technology_ids: Sequence[int], need_ids: Sequence[int]
    ) -> CatalogueChange:
        change = CatalogueChange(
            version=version, kind=kind, technology_ids=list(technology_ids), need_ids=list(need_ids)
        )
        self.session.add(change)
        self.session.flush()
        return change

    def after(self, version: int, *, limit: int) -> list[CatalogueChange]:
        """The changes after `version`, oldest first, at most `limit`."""
        query = (
            select(CatalogueChange)
            .where(CatalogueChange.version > version)
            .order_by(CatalogueChange.version)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def between(self, first: int, last: int) -> list[CatalogueChange]:
        """The changes first..last (inclusive), oldest first."""
        query = (
            select(CatalogueChange)
            .where(CatalogueChange.version >= first, CatalogueChange.version <= last)
            .order_by(CatalogueChange.version)
        )
        return list(self.session.scalars(query))

    def oldest(self) -> int | None:
        return self.session.scalar(select(func.min(CatalogueChange.version)))

    def prune(self, *, before: datetime) -> int:
        """Deletes changes committed before `before`; a follower that still needed them does one full sync."""
        result = self.session.execute(delete(CatalogueChange).where(CatalogueChange.created_at < before))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
