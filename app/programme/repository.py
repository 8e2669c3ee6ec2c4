"""Queries of the programme's picture: a tenant's needs, matches, engagements with their steps, and plans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from app.models import (
    Company,
    Engagement,
    EngagementEvent,
    Match,
    MatchStatus,
    Need,
    PairingPlan,
    Provider,
)


@dataclass(frozen=True, slots=True)
class NeedRow:
    id: int
    company_id: int
    lang: str
    sector: str | None
    created_at: datetime


class ProgrammeRepository:
    """Reads a tenant's programme whole: a programme holds thousands of needs and engagements, not millions."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def needs(self, *, tenant: str) -> list[NeedRow]:
        query = (
            select(Need.id, Need.company_id, Need.lang, Company.sector, Need.created_at)
            .join(Company, Company.id == Need.company_id)
            .where(Need.tenant == tenant)
            .order_by(Need.id)
        )
        return [NeedRow(*row) for row in self.session.execute(query)]

    def match_counts(self, *, tenant: str, since: datetime | None, until: datetime | None) -> dict[MatchStatus, int]:
        """Matches of the tenant's needs by status, proposed within the period."""
        query = select(Match.status, func.count()).join(Need, Need.id == Match.need_id).where(Need.tenant == tenant)
        query = query.where(*_proposed_within(since=since, until=until))
        counts = {status: 0 for status in MatchStatus}
        counts.update({MatchStatus(status): n for status, n in self.session.execute(query.group_by(Match.status))})
        return counts

    def approved_taken_up(self, *, tenant: str, since: datetime | None, until: datetime | None) -> int:
        """Approved matches of the tenant's needs, proposed within the period, that an engagement started from."""
        query = (
            select(func.count(func.distinct(Match.id)))
            .join(Need, Need.id == Match.need_id)
            .join(Engagement, Engagement.match_id == Match.id)
            .where(Need.tenant == tenant, Engagement.tenant == tenant, Match.status == MatchStatus.approved)
        )
        return int(self.session.scalar(query.where(*_proposed_within(since=since, until=until))) or 0)

    def engagements(self, *, tenant: str) -> list[Engagement]:
        return list(self.session.scalars(select(Engagement).where(Engagement.tenant == tenant).order_by(Engagement.id)))

    def events(self, *, tenant: str) -> list[EngagementEvent]:
        query = select(EngagementEvent).where(EngagementEvent.tenant == tenant)
        return list(self.session.scalars(query.order_by(EngagementEvent.at, EngagementEvent.id)))

    def plans(self, *, tenant: str) -> list[PairingPlan]:
        return list(self.session.scalars(select(PairingPlan).where(PairingPlan.tenant == tenant)))

    def companies(self, *, tenant: str) -> dict[int, Company]:
        return {row.id: row for row in self.session.scalars(select(Company).where(Company.tenant == tenant))}

    def providers(self, ids: set[int]) -> dict[int, Provider]:
        if not ids:
            return {}
        return {row.id: row for row in self.session.scalars(select(Provider).where(Provider.id.in_(sorted(ids))))}


def _proposed_within(*, since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    """Conditions for matches proposed within the period (open at either end when not given)."""
    conditions = []
    if since is not None:
        conditions.append(Match.created_at >= since)
    if until is not None:
        conditions.append(Match.created_at < until)
    return conditions
