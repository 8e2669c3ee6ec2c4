"""Catalogue models: providers, technologies, companies, needs, cached embeddings, the catalogue version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import DEFAULT_TENANT, Base, Timestamped, utcnow


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
    # What the offering's users must be able to do (skills, roles, training); not part of the embedded text.
    competences: Mapped[list[str]] = mapped_column(default=list, server_default="[]")

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
    # What its people can already do; set against an offering's competences in explanations.
    skills: Mapped[list[str]] = mapped_column(default=list, server_default="[]")


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
