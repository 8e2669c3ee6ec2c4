"""Queries for learning from decisions: decided matches, engagements' outcomes and the stored ranking models."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Engagement, EngagementStage, Match, MatchFeedback, MatchStatus, RankingModel


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

    def sme_answers(self) -> dict[int, dict[int, bool]]:
        """Need id -> technology id -> whether the SME asked for an introduction (True) or found the released
        match not relevant (False); the newest answer of a pair speaks for it."""
        query = (
            select(MatchFeedback.need_id, MatchFeedback.technology_id, MatchFeedback.verdict)
            .where(MatchFeedback.party == "sme", MatchFeedback.verdict.in_(["introduction", "not_relevant"]))
            .order_by(MatchFeedback.at, MatchFeedback.id)
        )
        out: dict[int, dict[int, bool]] = {}
        for need_id, technology_id, verdict in self.session.execute(query):
            out.setdefault(need_id, {})[technology_id] = verdict == "introduction"
        return out

    def outcomes(self, *, declines: Collection[str]) -> dict[int, dict[int, bool]]:
        """Need id -> technology id -> adopted, over every engagement that named its need and offering and
        ended adopted, or declined for one of `declines` (a reason about the fit)."""
        query = (
            select(Engagement.need_id, Engagement.technology_id, Engagement.stage)
            .where(
                Engagement.need_id.is_not(None),
                Engagement.technology_id.is_not(None),
                (Engagement.stage == EngagementStage.adopted)
                | ((Engagement.stage == EngagementStage.declined) & Engagement.end_reason.in_(list(declines))),
            )
            .order_by(Engagement.need_id, Engagement.technology_id, Engagement.id)
        )
        out: dict[int, dict[int, bool]] = {}
        for need_id, technology_id, stage in self.session.execute(query):
            if need_id is not None and technology_id is not None:
                # The latest engagement of a pair speaks for it (ordered by id).
                out.setdefault(need_id, {})[technology_id] = stage == EngagementStage.adopted
        return out

    def latest(self) -> RankingModel | None:
        query = select(RankingModel).order_by(RankingModel.trained_at.desc(), RankingModel.id.desc()).limit(1)
        return self.session.scalars(query).first()

    def add(self, row: RankingModel) -> RankingModel:
        self.session.add(row)
        self.session.flush()
        return row
