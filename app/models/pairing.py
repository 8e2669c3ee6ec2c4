"""Demo-day plans and their append-only revisions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import DEFAULT_TENANT, Base, Timestamped, utcnow


class PairingPlan(Timestamped, Base):
    """A demonstration day: who may meet whom, the limits, and the score matrix it was planned from.

    Scores are stored with the plan, so a revision re-optimises the same numbers even after the
    catalogue has changed. Ids refer to companies and providers; they are not foreign keys, so a
    plan stays readable (as history) after a profile is deleted.
    """

    __tablename__ = "pairing_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A plan names companies, so it belongs to their tenant.
    tenant: Mapped[str] = mapped_column(String(64), index=True, default=DEFAULT_TENANT, server_default=DEFAULT_TENANT)
    name: Mapped[str | None] = mapped_column(String(300))
    # The day itself: its date and each demonstration's length in minutes (both optional).
    event_date: Mapped[date | None] = mapped_column(Date, default=None)
    slot_minutes: Mapped[int | None] = mapped_column(default=None)
    fairness: Mapped[str] = mapped_column(String(20))
    min_score: Mapped[float] = mapped_column(Float)
    max_per_company: Mapped[int]
    rounds: Mapped[int | None]
    company_ids: Mapped[list[int]] = mapped_column(JSON)
    provider_ids: Mapped[list[int]] = mapped_column(JSON)
    # JSON object keys are strings: provider id (as text) -> count.
    capacity: Mapped[dict[str, Any]]
    tables: Mapped[dict[str, Any]]
    # Non-zero company-provider scores as [company_id, provider_id, score, need_id, technology_id]: the
    # need and technology the score comes from (plans stored before they were recorded have three).
    scores: Mapped[list[list[float]]] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(default=1)

    revisions: Mapped[list[PairingRevision]] = relationship(
        back_populates="plan",
        order_by="PairingRevision.number",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    @property
    def current(self) -> PairingRevision:
        return self.revisions[-1]


class PairingRevision(Base):
    """One version of a plan (append-only): what the facilitator changed, who, when, and the result."""

    __tablename__ = "pairing_revisions"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("pairing_plans.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    author: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    # [company_id, provider_id] pairs: what this revision asked for, and the state after it.
    locked: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    removed: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    must_pairs: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    never_pairs: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    # What the optimiser changed relative to the previous revision.
    added: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    dropped: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    # {company_id, provider_id, score, locked, round, table} per pair; unscheduled as pairs.
    assignments: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    unscheduled: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    rounds: Mapped[int]
    total_score: Mapped[float] = mapped_column(Float)
    greedy_total_score: Mapped[float] = mapped_column(Float)
    # SMEs the greedy baseline gives a demo (None: revisions stored before it was recorded).
    greedy_covered_companies: Mapped[int | None]
    optimal: Mapped[bool]
    bound: Mapped[float | None] = mapped_column(Float)
    gap: Mapped[float | None] = mapped_column(Float)
    covered_companies: Mapped[int]
    worst_best_score: Mapped[float | None] = mapped_column(Float)
    seconds: Mapped[float] = mapped_column(Float)

    plan: Mapped[PairingPlan] = relationship(back_populates="revisions")
