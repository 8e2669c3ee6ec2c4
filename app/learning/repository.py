"""Queries for learning from decisions: decided matches and the stored ranking models."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Match, MatchStatus, RankingModel


class RankingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def decisions(self) -> dict[int, dict[int, bool]]:
        """Need id -> technology id -> approved, over every match a curator approved or rejected."""
        query = (
            select(Match.need_id, Match.technology_id, Match.status)
            .where(Match.status.in_([MatchStatus.approved, MatchStatus.rejected]))
            .order_by(Match.need_id, Match.technology_id)
        )
        out: dict[int, dict[int, bool]] = {}
        for need_id, technology_id, status in self.session.execute(query):
            out.setdefault(need_id, {})[technology_id] = status == MatchStatus.approved
        return out

    def latest(self) -> RankingModel | None:
        query = select(RankingModel).order_by(RankingModel.trained_at.desc(), RankingModel.id.desc()).limit(1)
        return self.session.scalars(query).first()

    def add(self, row: RankingModel) -> RankingModel:
        self.session.add(row)
        self.session.flush()
        return row
