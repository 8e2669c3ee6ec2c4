"""Queries of webhook subscriptions and deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from app.models import DeliveryStatus, WebhookDelivery, WebhookSubscription


class WebhookRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: WebhookSubscription | WebhookDelivery) -> None:
        self.session.add(row)
        self.session.flush()

    def delete(self, row: WebhookSubscription) -> None:
        self.session.delete(row)
        self.session.flush()

    def subscription(self, *, tenant: str, subscription_id: int) -> WebhookSubscription | None:
        return self.session.scalars(
            select(WebhookSubscription).where(
                WebhookSubscription.id == subscription_id, WebhookSubscription.tenant == tenant
            )
        ).one_or_none()

    def subscriptions(self, *, tenant: str, limit: int, offset: int) -> tuple[Sequence[WebhookSubscription], int]:
        where = WebhookSubscription.tenant == tenant
        rows = self.session.scalars(
            select(WebhookSubscription).where(where).order_by(WebhookSubscription.id).limit(limit).offset(offset)
        ).all()
        total = self.session.scalar(select(func.count()).select_from(WebhookSubscription).where(where)) or 0
        return rows, total

    def active_subscriptions(self, *, tenant: str) -> Sequence[WebhookSubscription]:
        return self.session.scalars(
            select(WebhookSubscription)
            .where(WebhookSubscription.tenant == tenant, WebhookSubscription.active.is_(True))
            .order_by(WebhookSubscription.id)
        ).all()

    def delivery(self, *, subscription_id: int, delivery_id: int) -> WebhookDelivery | None:
        return self.session.scalars(
            select(WebhookDelivery).where(
                WebhookDelivery.id == delivery_id, WebhookDelivery.subscription_id == subscription_id
            )
        ).one_or_none()

    def deliveries(self, *, subscription_id: int, limit: int, offset: int) -> tuple[Sequence[WebhookDelivery], int]:
        where = WebhookDelivery.subscription_id == subscription_id
        rows = self.session.scalars(
            select(WebhookDelivery).where(where).order_by(WebhookDelivery.id.desc()).limit(limit).offset(offset)
        ).all()
        total = self.session.scalar(select(func.count()).select_from(WebhookDelivery).where(where)) or 0
        return rows, total

    def claim_due(self, *, now: datetime, lease: timedelta) -> WebhookDelivery | None:
        """The oldest due delivery, no longer due for `lease` (so no other worker takes it meanwhile).

        One UPDATE: on PostgreSQL its subquery's `FOR UPDATE SKIP LOCKED` lets a second worker skip the
        row instead of waiting; on SQLite the statement is atomic (one writer at a time), so two
        processes never claim the same delivery, as a SELECT followed by an UPDATE could."""
        due = and_(WebhookDelivery.status == DeliveryStatus.pending, WebhookDelivery.next_attempt_at <= now)
        candidate = (
            select(WebhookDelivery.id)
            .where(due)
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        claimed = self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == candidate, due)
            .values(next_attempt_at=now + lease)
            .returning(WebhookDelivery.id)
        ).scalar()
        return None if claimed is None else self.session.get(WebhookDelivery, claimed, populate_existing=True)

    def subscription_by_id(self, subscription_id: int) -> WebhookSubscription | None:
        return self.session.get(WebhookSubscription, subscription_id)
