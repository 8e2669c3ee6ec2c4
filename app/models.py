"""SQLAlchemy models: the catalogue (source of truth), stored matches, cached embeddings."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# The tenant of `techmatch load`, `make serve` and rows written before tenants existed.
DEFAULT_TENANT = "default"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC both ways; SQLite stores no zone, so one is put back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; use app.models.utcnow()")
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    # Named constraints, so a migration can drop or change one (SQLite batch mode needs the name).
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[str]: JSON,
        datetime: UTCDateTime,
    }


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Provider(Timestamped, Base):
    __tablename__ = "providers"
    __table_args__ = (UniqueConstraint("tenant", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True, default=DEFAULT_TENANT)
    ref: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str | None] = mapped_column(String(500))


class Technology(Timestamped, Base):
    __tablename__ = "technologies"
    __table_args__ = (UniqueConstraint("tenant", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True, default=DEFAULT_TENANT)
    ref: Mapped[str | None] = mapped_column(String(100))
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    categories: Mapped[list[str]] = mapped_column(default=list)
    sectors: Mapped[list[str]] = mapped_column(default=list)
    trl: Mapped[int | None]
    price_min_eur: Mapped[int | None]
    price_max_eur: Mapped[int | None]
    languages: Mapped[list[str]] = mapped_column(default=list)
    regions_served: Mapped[list[str]] = mapped_column(default=list)

    provider: Mapped[Provider] = relationship(lazy="joined", innerjoin=True)

    @property
    def provider_name(self) -> str:
        return self.provider.name


class Company(Timestamped, Base):
    __tablename__ = "companies"
    __table_args__ = (UniqueConstraint("tenant", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True, default=DEFAULT_TENANT)
    ref: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    sector: Mapped[str | None] = mapped_column(String(50))
    employees: Mapped[int | None]
    region: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")


class Need(Timestamped, Base):
    __tablename__ = "needs"
    __table_args__ = (UniqueConstraint("tenant", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True, default=DEFAULT_TENANT)
    ref: Mapped[str | None] = mapped_column(String(100))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    lang: Mapped[str] = mapped_column(String(8), default="en")
    budget_eur_max: Mapped[int | None]
    min_trl: Mapped[int | None]
    region: Mapped[str | None] = mapped_column(String(16))
    # None means "any language"; an empty list is normalised to None on write.
    languages: Mapped[list[str] | None] = mapped_column(JSON)

    company: Mapped[Company] = relationship(lazy="joined", innerjoin=True)

    @property
    def company_name(self) -> str:
        return self.company.name

    @property
    def constraints(self) -> dict[str, Any]:
        return {
            "budget_eur_max": self.budget_eur_max,
            "min_trl": self.min_trl,
            "region": self.region,
            "languages": self.languages,
        }


class MatchStatus(enum.StrEnum):
    proposed = "proposed"
    approved = "approved"
    rejected = "rejected"


class Match(Timestamped, Base):
    __tablename__ = "matches"
    __table_args__ = (UniqueConstraint("need_id", "technology_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    technology_id: Mapped[int] = mapped_column(ForeignKey("technologies.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)
    components: Mapped[dict[str, Any]]
    explanation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A VARCHAR with a CHECK rather than a native enum: adding a status later needs no type change.
    status: Mapped[MatchStatus] = mapped_column(
        Enum(MatchStatus, native_enum=False, length=20, validate_strings=True),
        default=MatchStatus.proposed,
    )
    # Review state: bumped by every curator decision, so a decision taken on a stale page is refused.
    review_version: Mapped[int] = mapped_column(default=0, server_default="0")
    explanation_edited: Mapped[bool] = mapped_column(default=False, server_default="0")
    reviewed_by: Mapped[str | None] = mapped_column(String(300))
    reviewed_at: Mapped[datetime | None]

    technology: Mapped[Technology] = relationship(lazy="joined", innerjoin=True)


class Embedding(Base):
    """A vector cached by (model, hash of the embedded text), so unchanged text is never re-encoded."""

    __tablename__ = "embeddings"
    __table_args__ = (UniqueConstraint("model", "text_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model: Mapped[str] = mapped_column(String(300))
    text_hash: Mapped[str] = mapped_column(String(64))
    dimension: Mapped[int]
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, little-endian
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CatalogueState(Base):
    """One row whose version is bumped by every technology or need write, in the same transaction."""

    __tablename__ = "catalogue_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


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
    fairness: Mapped[str] = mapped_column(String(20))
    min_score: Mapped[float] = mapped_column(Float)
    max_per_company: Mapped[int]
    rounds: Mapped[int | None]
    company_ids: Mapped[list[int]] = mapped_column(JSON)
    provider_ids: Mapped[list[int]] = mapped_column(JSON)
    # JSON object keys are strings: provider id (as text) -> count.
    capacity: Mapped[dict[str, Any]]
    tables: Mapped[dict[str, Any]]
    # Non-zero company-provider scores as [company_id, provider_id, score].
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
    optimal: Mapped[bool]
    bound: Mapped[float | None] = mapped_column(Float)
    gap: Mapped[float | None] = mapped_column(Float)
    covered_companies: Mapped[int]
    worst_best_score: Mapped[float | None] = mapped_column(Float)
    seconds: Mapped[float] = mapped_column(Float)

    plan: Mapped[PairingPlan] = relationship(back_populates="revisions")


class ApiKey(Base):
    """A key a cluster website calls the API with: only a hash of the secret is kept.

    `prefix` is the public, unique part of the key used to find the row; the secret is compared
    by its SHA-256 in constant time. Keys are random and long, so a slow password hash adds nothing.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True, default=DEFAULT_TENANT)
    name: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    hash: Mapped[str] = mapped_column(String(64))  # hex SHA-256 of the whole key
    scopes: Mapped[list[str]] = mapped_column(JSON)
    # Requests per period, e.g. "600/minute"; None means the rate_limit setting.
    rate_limit: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class Curator(Base):
    """A cluster staff account for the review pages; created from the CLI, never deleted (only disabled)."""

    __tablename__ = "curators"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True, default="default")
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class ReviewDecision(Base):
    """One curator decision on a match (append-only audit trail): who, when, what, before and after.

    No foreign key to the match: recomputing a need's proposals replaces proposed matches, and the
    history of a match must outlive it. The pair (need, technology) is kept for the same reason.
    """

    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True, default="default")
    match_id: Mapped[int] = mapped_column(index=True)
    need_id: Mapped[int] = mapped_column(index=True)
    technology_id: Mapped[int] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(300))
    actor_kind: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))
    reason_code: Mapped[str | None] = mapped_column(String(40))
    reason_text: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict[str, Any]]
    after: Mapped[dict[str, Any]]
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class WebhookSubscription(Timestamped, Base):
    """A tenant's URL that receives signed POSTs for the events it names.

    The secret is kept in the clear: it signs every delivery, so it cannot be stored as a hash.
    """

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True, default=DEFAULT_TENANT)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(default=True)
    description: Mapped[str] = mapped_column(String(300), default="")


class DeliveryStatus(enum.StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"


class WebhookDelivery(Timestamped, Base):
    """One event for one subscription (the outbox): written with the change, sent and retried by the worker."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True, default=DEFAULT_TENANT)
    event: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict[str, Any]]
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, native_enum=False, length=20, validate_strings=True),
        default=DeliveryStatus.pending,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    # When the worker may (re)try; None once the delivery has succeeded or given up.
    next_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    response_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    # A redelivery is a new delivery of the same event, so the log keeps both.
    redelivery_of: Mapped[int | None]


class RankingModel(Base):
    """A ranking learned from curator decisions (append-only); the newest row is the one in use.

    `model` is matching.learning.feedback.FeedbackModel.as_dict(): fusion weights, technology priors, what
    they were learned from. One model for the whole service: the engine ranks every tenant's needs.
    """

    __tablename__ = "ranking_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    trained_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    trained_by: Mapped[str] = mapped_column(String(300))
    format_version: Mapped[int]
    decisions: Mapped[int]
    approved: Mapped[int]
    needs: Mapped[int]
    model: Mapped[dict[str, Any]]
