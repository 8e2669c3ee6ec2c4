"""Queries of the catalogue: providers, technologies, companies and needs, by id, ref, tenant and page."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.queries import chunks
from app.models import (
    Company,
    Need,
    Provider,
    Technology,
)

ModelT = TypeVar("ModelT", bound=Provider | Technology | Company | Need)


def rows_by_ids(session: Session, model: type[ModelT], ids: Collection[int]) -> dict[int, ModelT]:
    found: dict[int, ModelT] = {}
    for chunk in chunks(sorted(ids)):
        for row in session.scalars(select(model).where(model.id.in_(chunk))):
            found[row.id] = row
    return found


def rows_by_refs(session: Session, model: type[ModelT], refs: Collection[str], *, tenant: str) -> dict[str, ModelT]:
    """Rows by ref within one tenant (refs are unique per tenant)."""
    found: dict[str, ModelT] = {}
    for chunk in chunks(sorted(refs)):
        query = select(model).where(model.ref.in_(chunk), model.tenant == tenant)
        for row in session.scalars(query):
            found[row.ref] = row  # type: ignore[index]
    return found


def technologies_of(session: Session, provider_ids: Collection[int]) -> list[Technology]:
    found: list[Technology] = []
    for chunk in chunks(sorted(provider_ids)):
        found.extend(session.scalars(select(Technology).where(Technology.provider_id.in_(chunk))))
    return sorted(found, key=lambda t: t.id)


def needs_of(session: Session, company_ids: Collection[int]) -> list[Need]:
    found: list[Need] = []
    for chunk in chunks(sorted(company_ids)):
        found.extend(session.scalars(select(Need).where(Need.company_id.in_(chunk))))
    return sorted(found, key=lambda n: n.id)


class CatalogueRepository(Generic[ModelT]):
    """Queries shared by providers, technologies, companies and needs."""

    model: type[ModelT]

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, id: int, *, tenant: str | None = None) -> ModelT | None:
        """The row, or None; with `tenant`, another tenant's row is None too (a 404, never a 403)."""
        row = self.session.get(self.model, id)
        if row is not None and tenant is not None and row.tenant != tenant:
            return None
        return row

    def get_by_ref(self, ref: str, *, tenant: str | None = None) -> ModelT | None:
        query = select(self.model).where(self.model.ref == ref)
        if tenant is not None:
            query = query.where(self.model.tenant == tenant)
        return self.session.scalars(query.order_by(self.model.id)).first()

    def ids_of_other_tenants(self, tenant: str) -> set[int]:
        """Rows the engine's shared index holds but `tenant` must not see; excluded from its results."""
        query = select(self.model.id).where(self.model.tenant != tenant)
        return set(self.session.scalars(query).all())

    def by_refs(self, refs: Collection[str], *, tenant: str) -> dict[str, ModelT]:
        return rows_by_refs(self.session, self.model, refs, tenant=tenant)

    def by_ids(self, ids: Collection[int]) -> dict[int, ModelT]:
        return rows_by_ids(self.session, self.model, ids)

    def page(self, *, limit: int, offset: int, after: int | None = None, **filters: Any) -> tuple[list[ModelT], int]:
        """Rows in id order from `offset`, or after the id `after` (a cursor); and the total that match."""
        conditions = [getattr(self.model, name) == value for name, value in filters.items()]
        total = self.session.scalar(select(func.count()).select_from(self.model).where(*conditions))
        query = select(self.model).where(*conditions).order_by(self.model.id).limit(limit)
        query = query.where(self.model.id > after) if after is not None else query.offset(offset)
        rows = self.session.scalars(query).all()
        return list(rows), total or 0

    def all(self) -> list[ModelT]:
        return list(self.session.scalars(select(self.model).order_by(self.model.id)).all())

    def count(self, *, tenant: str | None = None) -> int:
        query = select(func.count()).select_from(self.model)
        if tenant is not None:
            query = query.where(self.model.tenant == tenant)
        return self.session.scalar(query) or 0

    def add(self, row: ModelT) -> ModelT:
        self.session.add(row)
        self.session.flush()
        return row

    def delete(self, row: ModelT) -> None:
        self.session.delete(row)
        self.session.flush()


class ProviderRepository(CatalogueRepository[Provider]):
    model = Provider

    def has_technologies(self, provider_id: int) -> bool:
        query = select(Technology.id).where(Technology.provider_id == provider_id).limit(1)
        return self.session.scalar(query) is not None


class TechnologyRepository(CatalogueRepository[Technology]):
    model = Technology

    def of_provider(self, provider_id: int) -> list[Technology]:
        query = select(Technology).where(Technology.provider_id == provider_id)
        return list(self.session.scalars(query.order_by(Technology.id)).all())


class CompanyRepository(CatalogueRepository[Company]):
    model = Company

    def has_needs(self, company_id: int) -> bool:
        query = select(Need.id).where(Need.company_id == company_id).limit(1)
        return self.session.scalar(query) is not None


class NeedRepository(CatalogueRepository[Need]):
    model = Need

    def of_company(self, company_id: int) -> list[Need]:
        query = select(Need).where(Need.company_id == company_id)
        return list(self.session.scalars(query.order_by(Need.id)).all())
