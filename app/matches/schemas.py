"""Request and response bodies of matches and leads: scores, components and explanations."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    Field,
)

from app.catalogue.schemas import ConstraintsIn
from app.core.schemas import Input, K
from app.models import MatchStatus


class ComponentsRead(BaseModel):
    dense: float
    lexical: float
    taxonomy: float
    sector: float
    constraint_penalty: float


class SentencePairRead(BaseModel):
    need_sentence: str
    technology_sentence: str
    similarity: float


class ConstraintVerdictRead(BaseModel):
    name: str
    satisfied: bool
    detail: str


class ExplanationRead(BaseModel):
    summary: str
    sentence_pairs: list[SentencePairRead]
    shared_terms: list[str]
    shared_categories: list[str]
    need_categories: list[str]
    constraints: list[ConstraintVerdictRead]


class MatchRead(BaseModel):
    """A technology proposed for a need; `status` is None for ad-hoc matches, which are not stored."""

    need_id: int
    technology_id: int
    technology_ref: str | None
    title: str
    provider_id: int
    provider_name: str
    rank: int
    score: float
    components: ComponentsRead
    explanation: ExplanationRead | None
    status: MatchStatus | None
    reviewed: bool


class NeedMatches(BaseModel):
    need_id: int
    includes_unreviewed: bool
    items: list[MatchRead]


class AdHocMatchRequest(Input):
    text: Annotated[str, Field(min_length=1)]
    k: K | None = None
    constraints: ConstraintsIn = Field(default_factory=ConstraintsIn)


class AdHocMatches(BaseModel):
    k: int
    items: list[MatchRead]


class LeadRead(BaseModel):
    """A need that fits a technology."""

    technology_id: int
    need_id: int
    need_ref: str | None
    title: str
    company_id: int
    company_name: str
    lang: str
    rank: int
    score: float
    components: ComponentsRead
    explanation: ExplanationRead | None


class TechnologyLeads(BaseModel):
    technology_id: int
    items: list[LeadRead]
