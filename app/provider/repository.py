"""Queries of the provider member's pages: a provider's offerings and the leads released to it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Match, MatchFeedback, MatchStatus, Need, Technology


class ProviderPagesRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def offerings(self, provider_id: int) -> list[Technology]:
        query = (
            select(Technology).where(Technology.provider_id == provider_id).order_by(Technology.title, Technology.id)
        )
        return list(self.session.scalars(query))

    def released_leads(self, provider_id: int, *, tenant: str, limit: int) -> list[tuple[Match, Need]]:
        """Matches released to the provider (app.provider.service.released): approved matches of its
        offerings with needs of `tenant` that the SME did not mark not relevant, best first."""
        marked = select(MatchFeedback.match_id).where(
            MatchFeedback.party == "sme", MatchFeedback.verdict == "not_relevant"
        )
        # An SME that marked a match not relevant and then asked for an introduction wants it after all.
        asked = select(MatchFeedback.match_id).where(
            MatchFeedback.party == "sme", MatchFeedback.verdict == "introduction"
        )
        query = (
            select(Match, Need)
            .join(Need, Need.id == Match.need_id)
            .join(Technology, Technology.id == Match.technology_id)
            .where(
                Technology.provider_id == provider_id,
                Need.tenant == tenant,
                Match.status == MatchStatus.approved,
                Match.id.not_in(marked) | Match.id.in_(asked),
            )
            .order_by(Match.score.desc(), Match.id)
            .limit(limit)
        )
        return [(match, need) for match, need in self.session.execute(query).all()]
