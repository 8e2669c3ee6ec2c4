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
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


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

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str | None] = mapped_column(String(500))


class Technology(Timestamped, Base):
    __tablename__ = "technologies"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str | None] = mapped_column(String(100), unique=True)
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

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    sector: Mapped[str | None] = mapped_column(String(50))
    employees: Mapped[int | None]
    region: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")


class Need(Timestamped, Base):
    __tablename__ = "needs"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str | None] = mapped_column(String(100), unique=True)
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
    technology_id: Mapped[int] = mapped_column(
        ForeignKey("technologies.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)
    components: Mapped[dict[str, Any]]
    explanation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A VARCHAR with a CHECK rather than a native enum: adding a status later needs no type change.
    status: Mapped[MatchStatus] = mapped_column(
        Enum(MatchStatus, native_enum=False, length=20, validate_strings=True),
        default=MatchStatus.proposed,
    )

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
