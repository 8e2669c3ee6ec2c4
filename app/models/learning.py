"""Learned ranking models, append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class RankingModel(Base):
    """A ranking learned from curator decisions (append-only); the newest row is the one in use.

    `model` is matching.learning.feedback.FeedbackModel.as_dict(): fusion weights, technology priors, what
    they were learned from. One model for the whole service: the engine ranks every tenant's needs.
    """

    __tablename__ = "ranking_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    trained_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    trained_by: Mapped[str] = mapped_column(String(300))
    # The tenant of the key that learned it; None for `techmatch learn` (and rows from before it was kept).
    trained_by_tenant: Mapped[str | None] = mapped_column(String(64), default=None)
    format_version: Mapped[int]
    decisions: Mapped[int]
    approved: Mapped[int]
    needs: Mapped[int]
    model: Mapped[dict[str, Any]]
