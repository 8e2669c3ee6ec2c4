"""Queries of matches: a need's rows by status, decided pairs, replacing proposed rows."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.models import (
    Match,
    MatchStatus,
)


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

    def renumber(self, need_id: int) -> None:
        """Ranks 1..n by score over the need's approved and proposed rows together: unique and contiguous
        (rejected rows are never shown and keep the rank they were decided at)."""
        live = self.session.scalars(
            select(Match).where(Match.need_id == need_id, Match.status != MatchStatus.rejected)
        ).all()
        for rank, row in enumerate(sorted(live, key=lambda r: (-r.score, r.technology_id)), start=1):
            if row.rank != rank:
                row.rank = rank
        self.session.flush()

    def add_all(self, matches: Sequence[Match]) -> None:
        self.session.add_all(matches)
        self.session.flush()

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Match)) or 0
