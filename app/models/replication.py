"""The change log every serving process follows to keep its index in step with the database."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class ChangeKind(enum.StrEnum):
    # Rows of these ids were created, changed or deleted (the follower reads what they are now).
    catalogue = "catalogue"
    # As catalogue, and every process rewrites its saved index so that no copy of the needs stays on disk.
    erasure = "erasure"
    # A new ranking model (weights, priors, calibration) was stored.
    ranking = "ranking"
    # Too much changed to list (a large load, a restore): every process rebuilds from the database.
    resync = "resync"


class CatalogueChange(Base):
    """One committed change, numbered by the catalogue version it bumped to.

    Written in the writer's transaction right after the version bump, whose row lock orders commits: the
    versions in this table are gap-free and visible in order, so a follower that has applied version v
    needs exactly the rows after v (or, when the oldest kept row is later than v + 1, a full sync).
    """

    __tablename__ = "catalogue_changes"

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[ChangeKind] = mapped_column(Enum(ChangeKind, native_enum=False, length=20, validate_strings=True))
    technology_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    need_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
