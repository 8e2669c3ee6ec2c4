"""Read schema of a learned ranking model (POST /api/v1/admin/learn, GET /api/v1/admin/ranking-model)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app import models
from matching.learning.feedback import FeedbackModel


class RankingModelRead(BaseModel):
    id: int
    trained_at: datetime
    trained_by: str
    format_version: int
    decisions: int = Field(description="approved and rejected matches learned from")
    approved: int
    needs: int
    parts: list[str] = Field(description="what was learned: fusion 'weights', technology 'priors', 'neighbours'")
    weights: dict[str, float] = Field(description="fusion weights (RankingWeights fields) now in use")
    prior_weight: float = Field(description="how much a technology's approve log-odds adds to its score")
    priors: dict[int, float] = Field(description="technology id -> approve log-odds against the overall rate")
    neighbour_weight: float = Field(description="how much the votes of similar decided needs add to a score")
    voting_needs: int = Field(description="decided needs whose decisions vote for similar needs")
    calibration: dict[str, float] | None = Field(
        None, description="probability = sigmoid(intercept + scale * evidence), refitted when learning"
    )

    @classmethod
    def of(cls, row: models.RankingModel) -> RankingModelRead:
        model = FeedbackModel.from_dict(row.model)
        return cls(
            id=row.id,
            trained_at=row.trained_at,
            trained_by=row.trained_by,
            format_version=row.format_version,
            decisions=row.decisions,
            approved=row.approved,
            needs=row.needs,
            parts=list(model.parts),
            weights=model.weights,
            prior_weight=model.prior_weight,
            priors=model.priors,
            neighbour_weight=model.neighbour_weight,
            voting_needs=len(model.votes),
            calibration=None if model.calibration is None else model.calibration.as_dict(),
        )
