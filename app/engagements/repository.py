"""Queries of engagements: the board's filters, one engagement, its history, and the rows they name."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, String, cast, func, select, update
from sqlalchemy.orm import Session

from app.catalogue.repository import rows_by_ids
from app.models import (
    Company,
    Engagement,
    EngagementEvent,
    EngagementStage,
    Match,
    Need,
    Provider,
    Technology,
)

ENDED = (EngagementStage.adopted, EngagementStage.declined)


@dataclass(frozen=True, slots=True, kw_only=True)
class EngagementScope:
    """Whose engagements a caller sees: a tenant's (staff), and within it one company's (an SME member) or
    one provider's (a provider member)."""

    tenant: str
    company_id: int | None = None
    provider_id: int | None = None

    def admits(self, engagement: Engagement) -> bool:
        return (
            engagement.tenant == self.tenant
            and (self.company_id is None or engagement.company_id == self.company_id)
            and (self.provider_id is None or engagement.provider_id == self.provider_id)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class EngagementFilters:
    stage: EngagementStage | None = None
    company_id: int | None = None
    provider_id: int | None = None
    technology_id: int | None = None
    plan_id: int | None = None
    origin: str | None = None
    category: str | None = None
    # Open engagements whose next action's date is before this day.
    overdue_on: date | None = None
    open_only: bool = False


class EngagementRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _query(self, scope: EngagementScope, filters: EngagementFilters) -> Select[Engagement]:
        query = select(Engagement).where(Engagement.tenant == scope.tenant)
        for column, value in (
            (Engagement.company_id, scope.company_id),
            (Engagement.provider_id, scope.provider_id),
            (Engagement.stage, filters.stage),
            (Engagement.company_id, filters.company_id),
            (Engagement.provider_id, filters.provider_id),
            (Engagement.technology_id, filters.technology_id),
            (Engagement.plan_id, filters.plan_id),
            (Engagement.origin, filters.origin),
        ):
            if value is not None:
                query = query.where(column == value)
        if filters.category:
            # Categories are a JSON list; its text form holds each slug quoted, on SQLite and PostgreSQL.
            query = query.where(
                Engagement.technology_id.in_(
                    select(Technology.id).where(
                        cast(Technology.categories, String).like(f"%{json.dumps(filters.category)}%")
                    )
                )
            )
        if filters.open_only or filters.overdue_on is not None:
            query = query.where(Engagement.stage.not_in(ENDED))
        if filters.overdue_on is not None:
            query = query.where(Engagement.next_action_on < filters.overdue_on)
        return query

    def page(
        self, scope: EngagementScope, filters: EngagementFilters, *, limit: int, offset: int
    ) -> tuple[list[Engagement], int]:
        query = self._query(scope, filters)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(query.order_by(Engagement.id).limit(limit).offset(offset)).all()
        return list(rows), total

    def counts_by_stage(self, scope: EngagementScope, filters: EngagementFilters) -> dict[EngagementStage, int]:
        query = self._query(scope, filters).subquery()
        counts = {stage: 0 for stage in EngagementStage}
        for stage, count in self.session.execute(select(query.c.stage, func.count()).group_by(query.c.stage)):
            counts[EngagementStage(stage)] = count
        return counts

    def column(self, scope: EngagementScope, filters: EngagementFilters, *, limit: int) -> list[Engagement]:
        query = self._query(scope, filters).order_by(Engagement.stage_changed_at, Engagement.id).limit(limit)
        return list(self.session.scalars(query))

    def open_first(self, scope: EngagementScope, *, limit: int) -> list[Engagement]:
        """The scope's engagements, open ones first, the newest first within each."""
        query = self._query(scope, EngagementFilters()).order_by(Engagement.stage.in_(ENDED), Engagement.id.desc())
        return list(self.session.scalars(query.limit(limit)))

    def get(self, engagement_id: int) -> Engagement | None:
        return self.session.get(Engagement, engagement_id)

    def of_pairs(self, *, tenant: str, plan_id: int) -> dict[tuple[int, int], Engagement]:
        query = select(Engagement).where(Engagement.tenant == tenant, Engagement.plan_id == plan_id)
        return {(row.company_id, row.provider_id): row for row in self.session.scalars(query)}

    def of_technology(self, *, tenant: str, company_id: int, technology_id: int) -> Engagement | None:
        """An engagement of this company with this offering, open ones first."""
        query = (
            select(Engagement)
            .where(
                Engagement.tenant == tenant,
                Engagement.company_id == company_id,
                Engagement.technology_id == technology_id,
            )
            .order_by(Engagement.stage.in_(ENDED), Engagement.id)
        )
        return self.session.scalars(query).first()

    def of_need(self, need_id: int) -> list[Engagement]:
        query = select(Engagement).where(Engagement.need_id == need_id).order_by(Engagement.id)
        return list(self.session.scalars(query))

    def add(self, engagement: Engagement) -> Engagement:
        self.session.add(engagement)
        self.session.flush()
        return engagement

    def compare_and_set(self, engagement: Engagement, *, version: int, values: dict[str, Any]) -> bool:
        """Writes `values` only if nobody changed the engagement since `version` was read."""
        result = self.session.execute(
            update(Engagement)
            .where(Engagement.id == engagement.id, Engagement.version == version)
            .values(version=version + 1, **values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        self.session.refresh(engagement)
        return True

    def add_event(self, event: EngagementEvent) -> EngagementEvent:
        self.session.add(event)
        self.session.flush()
        return event

    def history(self, engagement_id: int) -> list[EngagementEvent]:
        query = (
            select(EngagementEvent)
            .where(EngagementEvent.engagement_id == engagement_id)
            .order_by(EngagementEvent.at, EngagementEvent.id)
        )
        return list(self.session.scalars(query))

    def match(self, match_id: int, *, tenant: str) -> Match | None:
        query = select(Match).join(Need, Need.id == Match.need_id).where(Match.id == match_id, Need.tenant == tenant)
        return self.session.scalars(query).first()

    def companies(self, ids: Collection[int]) -> dict[int, Company]:
        return rows_by_ids(self.session, Company, ids)

    def providers(self, ids: Collection[int]) -> dict[int, Provider]:
        return rows_by_ids(self.session, Provider, ids)

    def technologies(self, ids: Collection[int]) -> dict[int, Technology]:
        return rows_by_ids(self.session, Technology, ids)

    def needs(self, ids: Collection[int]) -> dict[int, Need]:
        return rows_by_ids(self.session, Need, ids)
