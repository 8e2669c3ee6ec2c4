"""Queries of bulk import and export: rows of one tenant by ref, by id, in id order."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Company, Need, Provider, Technology

CatalogueRow = TypeVar("CatalogueRow", Provider, Technology, Company, Need)

# Stays under every database's limit on bound parameters in one IN (...).
_IN_CHUNK = 500


def _chunks(items: Sequence[object], size: int) -> Iterable[Sequence[object]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class BulkRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_refs(self, model: type[CatalogueRow], *, tenant: str, refs: Collection[str]) -> dict[str, CatalogueRow]:
        found: dict[str, CatalogueRow] = {}
        for chunk in _chunks(sorted(refs), _IN_CHUNK):
            query = select(model).where(model.tenant == tenant, model.ref.in_(chunk))
            for row in self.session.scalars(query):
                found[row.ref] = row  # type: ignore[index]
        return found

    def by_ids(self, model: type[CatalogueRow], ids: Collection[int]) -> dict[int, CatalogueRow]:
        found: dict[int, CatalogueRow] = {}
        for chunk in _chunks(sorted(ids), _IN_CHUNK):
            for row in self.session.scalars(select(model).where(model.id.in_(chunk))):
                found[row.id] = row
        return found

    def of_tenant(self, model: type[CatalogueRow], *, tenant: str) -> list[CatalogueRow]:
        query = select(model).where(model.tenant == tenant).order_by(model.id)
        return list(self.session.scalars(query).all())

    def technologies_of(self, provider_ids: Collection[int]) -> list[Technology]:
        found: list[Technology] = []
        for chunk in _chunks(sorted(provider_ids), _IN_CHUNK):
            found.extend(self.session.scalars(select(Technology).where(Technology.provider_id.in_(chunk))))
        return sorted(found, key=lambda row: row.id)

    def needs_of(self, company_ids: Collection[int]) -> list[Need]:
        found: list[Need] = []
        for chunk in _chunks(sorted(company_ids), _IN_CHUNK):
            found.extend(self.session.scalars(select(Need).where(Need.company_id.in_(chunk))))
        return sorted(found, key=lambda row: row.id)
