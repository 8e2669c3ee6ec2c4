"""Queries of erasure and access: every row that holds or points at a company's data."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.core.queries import chunks
from app.models import (
    Embedding,
    Engagement,
    EngagementEvent,
    Invitation,
    Match,
    MatchFeedback,
    Need,
    PairingPlan,
    Person,
    ReviewDecision,
    Technology,
    WebhookDelivery,
)


class PrivacyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def matches_of(self, need_ids: Collection[int]) -> list[Match]:
        found: list[Match] = []
        for chunk in chunks(sorted(need_ids)):
            found.extend(self.session.scalars(select(Match).where(Match.need_id.in_(chunk))))
        return sorted(found, key=lambda m: (m.need_id, m.rank, m.id))

    def decisions_of(self, need_ids: Collection[int]) -> list[ReviewDecision]:
        found: list[ReviewDecision] = []
        for chunk in chunks(sorted(need_ids)):
            found.extend(self.session.scalars(select(ReviewDecision).where(ReviewDecision.need_id.in_(chunk))))
        return sorted(found, key=lambda d: d.id)

    def deliveries_of(self, *, tenant: str, company_id: int, need_ids: Collection[int]) -> list[WebhookDelivery]:
        """Deliveries whose payload names the company or one of its needs (payloads are JSON, so read them)."""
        wanted = set(need_ids)
        rows = self.session.scalars(select(WebhookDelivery).where(WebhookDelivery.tenant == tenant))
        return [
            row
            for row in rows
            if isinstance(row.payload, dict)
            and (row.payload.get("company_id") == company_id or row.payload.get("need_id") in wanted)
        ]

    def plans_with(self, company_id: int) -> list[PairingPlan]:
        # Plans are few (one per demonstration day) and keep their companies in a JSON list.
        return [plan for plan in self.session.scalars(select(PairingPlan)) if company_id in plan.company_ids]

    def people_of(self, company_id: int) -> list[Person]:
        return list(self.session.scalars(select(Person).where(Person.company_id == company_id).order_by(Person.id)))

    def invitations_of(self, company_id: int) -> list[Invitation]:
        query = select(Invitation).where(Invitation.company_id == company_id).order_by(Invitation.id)
        return list(self.session.scalars(query))

    def engagements_of(self, company_id: int, *, tenant: str) -> list[Engagement]:
        query = select(Engagement).where(Engagement.tenant == tenant, Engagement.company_id == company_id)
        return list(self.session.scalars(query.order_by(Engagement.id)))

    def engagement_events_of(self, company_id: int, *, tenant: str) -> list[EngagementEvent]:
        query = select(EngagementEvent).where(
            EngagementEvent.tenant == tenant, EngagementEvent.company_id == company_id
        )
        return list(self.session.scalars(query.order_by(EngagementEvent.id)))

    def delete_engagements_of(self, company_id: int, *, tenant: str) -> None:
        # Bulk DELETEs, as for review decisions: the ORM guard keeps the engagement history append-only
        # against edits; erasure of the data subject's records is the one sanctioned removal.
        self.session.execute(
            delete(EngagementEvent).where(EngagementEvent.tenant == tenant, EngagementEvent.company_id == company_id)
        )
        self.session.execute(delete(Engagement).where(Engagement.tenant == tenant, Engagement.company_id == company_id))

    def embeddings(self, text_hashes: Collection[str]) -> list[Embedding]:
        found: list[Embedding] = []
        for chunk in chunks(sorted(text_hashes)):
            found.extend(self.session.scalars(select(Embedding).where(Embedding.text_hash.in_(chunk))))
        return found

    def needs_titled(self, titles: Collection[str], *, excluding: Collection[int]) -> list[Need]:
        """Other needs that may share an embedded text (the same title is necessary for the same text)."""
        found: list[Need] = []
        for chunk in chunks(sorted(titles)):
            found.extend(self.session.scalars(select(Need).where(Need.title.in_(chunk), Need.id.not_in(excluding))))
        return found

    def technologies_titled(self, titles: Collection[str]) -> list[Technology]:
        found: list[Technology] = []
        for chunk in chunks(sorted(titles)):
            found.extend(self.session.scalars(select(Technology).where(Technology.title.in_(chunk))))
        return found

    def delete_rows(self, rows: Iterable[object]) -> None:
        for row in rows:
            self.session.delete(row)
        self.session.flush()

    def delete_decisions(self, ids: Collection[int]) -> None:
        # A bulk DELETE, not session.delete(): the ORM guard that keeps the review trail append-only
        # is meant for edits; erasure of the data subject's records is the one sanctioned removal.
        for chunk in chunks(sorted(ids)):
            self.session.execute(delete(ReviewDecision).where(ReviewDecision.id.in_(chunk)))

    def feedback_of(self, need_ids: Collection[int]) -> list[MatchFeedback]:
        found: list[MatchFeedback] = []
        for chunk in chunks(sorted(need_ids)):
            query = select(MatchFeedback).where(MatchFeedback.need_id.in_(chunk)).order_by(MatchFeedback.id)
            found.extend(self.session.scalars(query))
        return found

    def delete_feedback_of(self, need_ids: Collection[int]) -> int:
        """The SME's and providers' answers to the needs' matches; how many went."""
        gone = 0
        for chunk in chunks(sorted(need_ids)):
            result = self.session.execute(delete(MatchFeedback).where(MatchFeedback.need_id.in_(chunk)))
            gone += result.rowcount  # type: ignore[attr-defined]
        return gone

    def delete_deliveries(self, ids: Collection[int]) -> None:
        for chunk in chunks(sorted(ids)):
            self.session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(chunk)))

    def delete_matches_of(self, need_ids: Collection[int]) -> None:
        for chunk in chunks(sorted(need_ids)):
            self.session.execute(delete(Match).where(Match.need_id.in_(chunk)))
