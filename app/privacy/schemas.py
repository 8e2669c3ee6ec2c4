"""The response of access to a company's data (GDPR): everything stored about it, typed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.catalogue.schemas import CompanyRead, NeedRead
from app.matches.schemas import MatchRead
from app.review.schemas import DecisionRead
from app.webhooks.schemas import DeliveryRead


class PlanAssignment(BaseModel):
    """One of the company's demonstrations in a plan's current revision."""

    company_id: int
    provider_id: int
    score: float
    locked: bool
    round: int | None
    table: int | None


class PlanPlacement(BaseModel):
    plan_id: int
    name: str | None
    revision: int
    assignments: list[PlanAssignment]


class CachedVector(BaseModel):
    """A vector cached for one of the company's texts: which model, the text's digest (never the text)."""

    model: str
    text_hash: str
    dimension: int


class CompanyExport(BaseModel):
    generated_at: datetime
    company: CompanyRead
    needs: list[NeedRead]
    matches: list[MatchRead]
    review_decisions: list[DecisionRead] = Field(description="curator decisions on the company's matches")
    match_feedback: list[dict[str, Any]] = Field(
        default_factory=list, description="the SME's and providers' answers to the company's matches"
    )
    webhook_deliveries: list[DeliveryRead] = Field(description="deliveries whose payload names the company")
    pairing_plans: list[PlanPlacement]
    engagements: list[dict[str, Any]] = Field(description="the company's engagements with providers")
    engagement_events: list[dict[str, Any]] = Field(description="every step of those engagements, in order")
    embeddings: list[CachedVector]
    people: list[dict[str, Any]] = Field(description="the company's members' accounts, without password hashes")
    invitations: list[dict[str, Any]] = Field(description="invitations to join the company, without their tokens")
