"""Queries of demo-day plans and their revisions, and the catalogue rows a plan is built from."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.catalogue.repository import ModelT, needs_of, rows_by_ids, technologies_of
from app.models import (
    Company,
    Need,
    PairingPlan,
    PairingRevision,
    Provider,
    Technology,
)


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

    def technologies(self, ids: Collection[int]) -> dict[int, Technology]:
        return self._by_ids(Technology, ids)

    def needs(self, ids: Collection[int]) -> dict[int, Need]:
        return self._by_ids(Need, ids)

    def needs_of(self, company_ids: Collection[int]) -> list[Need]:
        return needs_of(self.session, company_ids)

    def technologies_of(self, provider_ids: Collection[int]) -> list[Technology]:
        return technologies_of(self.session, provider_ids)

    def _by_ids(self, model: type[ModelT], ids: Collection[int]) -> dict[int, ModelT]:
        return rows_by_ids(self.session, model, ids)
