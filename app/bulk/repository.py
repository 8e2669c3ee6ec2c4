"""Queries of bulk import and export: rows of one tenant by ref, by id, in id order."""

from __future__ import annotations

from collections.abc import Collection
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalogue.repository import needs_of, rows_by_ids, rows_by_refs, technologies_of
from app.models import Company, Need, Provider, Technology

# Bound, not constrained: the import specs hold a model class typed as the union of the four.
CatalogueRow = TypeVar("CatalogueRow", bound=Provider | Technology | Company | Need)


class BulkRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_refs(self, model: type[CatalogueRow], *, tenant: str, refs: Collection[str]) -> dict[str, CatalogueRow]:
        return rows_by_refs(self.session, model, refs, tenant=tenant)

    def by_ids(self, model: type[CatalogueRow], ids: Collection[int]) -> dict[int, CatalogueRow]:
        return rows_by_ids(self.session, model, ids)

    def of_tenant(self, model: type[CatalogueRow], *, tenant: str) -> list[CatalogueRow]:
        query = select(model).where(model.tenant == tenant).order_by(model.id)
        return list(self.session.scalars(query).all())

    def technologies_of(self, provider_ids: Collection[int]) -> list[Technology]:
        return technologies_of(self.session, provider_ids)

    def needs_of(self, company_ids: Collection[int]) -> list[Need]:
        return needs_of(self.session, company_ids)
