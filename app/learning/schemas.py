"""Read schema of a learned ranking model (POST /api/v1/admin/learn, GET /api/v1/admin/ranking-model)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from pydantic import BaseModel, Field

from app import models
from matching.learning.feedback import FeedbackModel

# Who a model learned with the command line is recorded as (shown to every tenant: it is no tenant's).
COMMAND_LINE = "techmatch learn"


class RankingModelRead(BaseModel):
    id: int
    trained_at: datetime
    trained_by: str | None = Field(
        description="the key (or `techmatch learn`) that learned it; null when another tenant's key did"
    )
    format_version: int
    decisions: int = Field(
        description="decisions learned from: approved and rejected matches, and engagements' outcomes"
    )
    approved: int
    outcomes: int = Field(
        0,
        description="of `decisions`, engagements adopted or declined for a reason about the fit: they override "
        "a curator's verdict on the same pair and weigh more (OUTCOME_WEIGHT)",
    )
    adopted: int = Field(0, description="of `outcomes`, adoptions")
    needs: int
    parts: list[str] = Field(description="what was learned: fusion 'weights', technology 'priors', 'neighbours'")
    weights: dict[str, float] = Field(description="fusion weights (RankingWeights fields) now in use")
    prior_weight: float = Field(description="how much a technology's approve log-odds adds to its score")
    priors: dict[int, float] = Field(
        description="technology id -> approve log-odds against the overall rate, for the technologies you can see"
    )
    neighbour_weight: float = Field(description="how much the votes of similar decided needs add to a score")
    voting_needs: int = Field(description="decided needs whose decisions vote for similar needs")
    calibration: dict[str, float] | None = Field(
        None, description="probability = sigmoid(intercept + scale * evidence), refitted when learning"
    )

    @classmethod
    def of(
        cls, row: models.RankingModel, *, tenant: str | None = None, hidden_technologies: Collection[int] = ()
    ) -> RankingModelRead:
        """The model as `tenant` sees it (None: the operator's command line, which sees all of it).

        One model serves every tenant; what it names of one tenant (the key that learned it, priors of
        technologies a tenant cannot see) is not shown to another.
        """
        model = FeedbackModel.from_dict(row.model)
        own = tenant is None or row.trained_by_tenant == tenant
        by_command_line = row.trained_by_tenant is None and row.trained_by == COMMAND_LINE
        hidden = set(hidden_technologies)
        return cls(
            id=row.id,
            trained_at=row.trained_at,
            trained_by=row.trained_by if own or by_command_line else None,
            format_version=row.format_version,
            decisions=row.decisions,
            approved=row.approved,
            outcomes=model.outcomes,
            adopted=model.adopted,
            needs=row.needs,
            parts=list(model.parts),
            weights=model.weights,
            prior_weight=model.prior_weight,
            priors={technology: value for technology, value in model.priors.items() if technology not in hidden},
            neighbour_weight=model.neighbour_weight,
            voting_needs=len(model.votes),
            calibration=None if model.calibration is None else model.calibration.as_dict(),
        )
