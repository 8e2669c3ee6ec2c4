"""API keys: hashed secrets with their tenant and scopes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import DEFAULT_TENANT, Base, utcnow


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
    # A publishable key (the widget's, in a public web page): the origins whose pages may use it.
    origins: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    @property
    def publishable(self) -> bool:
        return self.origins is not None

    @property
    def active(self) -> bool:
        return self.revoked_at is None
