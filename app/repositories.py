"""Every database query of the service; repositories flush, the unit of work commits."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.models import (
    ApiKey,
    CatalogueState,
    Company,
    Match,
    MatchStatus,
    Need,
    PairingPlan,
    PairingRevision,
    Provider,
    Technology,
)

ModelT = TypeVar("ModelT", Provider, Technology, Company, Need)

# Stays under every database's limit on bound parameters in one IN (...).
IN_CHUNK = 500


ItemT = TypeVar("ItemT")


def chunks(items: Sequence[ItemT], size: int = IN_CHUNK) -> Iterable[Sequence[ItemT]]:
    """`items` in slices of `size`, for IN (...) lists that stay under the bound-parameter limit."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


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

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(self.model)) or 0

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


class MatchRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def of_need(self, need_id: int, *, statuses: Collection[MatchStatus]) -> list[Match]:
        query = (
            select(Match)
            .where(Match.need_id == need_id, Match.status.in_(list(statuses)))
            .order_by(Match.score.desc(), Match.technology_id)
        )
        return list(self.session.scalars(query).all())

    def decisions(self, need_id: int) -> dict[int, MatchStatus]:
        """Technology id -> status, for the need's matches a curator has decided on."""
        query = select(Match.technology_id, Match.status).where(
            Match.need_id == need_id, Match.status != MatchStatus.proposed
        )
        return {technology_id: status for technology_id, status in self.session.execute(query)}

    def delete_proposed(self, need_id: int) -> None:
        self.session.execute(delete(Match).where(Match.need_id == need_id, Match.status == MatchStatus.proposed))

    def delete_of_technology(self, technology_id: int) -> None:
        self.session.execute(delete(Match).where(Match.technology_id == technology_id))

    def delete_of_need(self, need_id: int) -> None:
        self.session.execute(delete(Match).where(Match.need_id == need_id))

    def add_all(self, matches: Sequence[Match]) -> None:
        self.session.add_all(matches)
        self.session.flush()

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Match)) or 0


class CatalogueStateRepository:
    _ROW_ID = 1

    def __init__(self, session: Session) -> None:
        self.session = session

    def version(self) -> int:
        state = self.session.get(CatalogueState, self._ROW_ID)
        return state.version if state is not None else 0

    def bump(self) -> int:
        """Increments the version in the caller's transaction; an UPDATE, so writers do not race."""
        result = self.session.execute(
            update(CatalogueState).where(CatalogueState.id == self._ROW_ID).values(version=CatalogueState.version + 1)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            self.session.add(CatalogueState(id=self._ROW_ID, version=1))
            self.session.flush()
        # The UPDATE bypassed the identity map; read the row back as it is now.
        state = self.session.get(CatalogueState, self._ROW_ID, populate_existing=True)
        assert state is not None
        return state.version


class PairingRepository:
    """Demo-day plans and their revisions, and the catalogue rows a plan is built from."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, plan_id: int) -> PairingPlan | None:
        return self.session.get(PairingPlan, plan_id)

    def page(self, *, limit: int, offset: int, tenant: str | None = None) -> tuple[list[PairingPlan], int]:
        conditions = [PairingPlan.tenant == tenant] if tenant is not None else []
        total = self.session.scalar(select(func.count()).select_from(PairingPlan).where(*conditions))
        rows = self.session.scalars(
            select(PairingPlan).where(*conditions).order_by(PairingPlan.id).limit(limit).offset(offset)
        ).all()
        return list(rows), total or 0

    def add(self, plan: PairingPlan) -> PairingPlan:
        self.session.add(plan)
        self.session.flush()
        return plan

    def add_revision(self, plan: PairingPlan, revision: PairingRevision) -> PairingRevision:
        plan.revisions.append(revision)
        plan.revision = revision.number
        self.session.flush()
        return revision

    def companies(self, ids: Collection[int]) -> dict[int, Company]:
        return self._by_ids(Company, ids)

    def providers(self, ids: Collection[int]) -> dict[int, Provider]:
        return self._by_ids(Provider, ids)

    def needs_of(self, company_ids: Collection[int]) -> list[Need]:
        return needs_of(self.session, company_ids)

    def technologies_of(self, provider_ids: Collection[int]) -> list[Technology]:
        return technologies_of(self.session, provider_ids)

    def _by_ids(self, model: type[ModelT], ids: Collection[int]) -> dict[int, ModelT]:
        return rows_by_ids(self.session, model, ids)


class ApiKeyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_prefix(self, prefix: str) -> ApiKey | None:
        return self.session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()

    def all(self, *, tenant: str | None = None) -> list[ApiKey]:
        query = select(ApiKey).order_by(ApiKey.tenant, ApiKey.id)
        if tenant is not None:
            query = query.where(ApiKey.tenant == tenant)
        return list(self.session.scalars(query).all())

    def add(self, key: ApiKey) -> ApiKey:
        self.session.add(key)
        self.session.flush()
        return key
