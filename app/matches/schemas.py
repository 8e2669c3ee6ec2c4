"""Request and response bodies of matches and leads: scores, components and explanations."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    Field,
)

from app.catalogue.schemas import ConstraintsIn
from app.core.schemas import Input, K
from app.models import MatchStatus

Fit = Literal["good", "weak", "none"]
FIT_DESCRIPTION = (
    "the verdict on the whole list: good when its best match is good or strong (probability at least 0.4), "
    "weak when only possible matches pass the match threshold, none when nothing does: nothing in the "
    "catalogue fits, said plainly in `message`"
)


class ComponentsRead(BaseModel):
    """What the score is made of: the pair's features, and each part's contribution to the score's log-odds."""

    dense: float = Field(description="cosine similarity of the need and the offering")
    lexical: float = Field(description="share of the need's weighted words (BM25) the offering covers, 0-1")
    taxonomy: float = Field(description="the need's affinity to the offering's best category, 0-1")
    sector: float = Field(description="1 when the provider has references in the SME's sector")
    constraint_penalty: float = Field(description="log-odds lost to violated constraints (0: all met)")
    sentence: float = Field(0.0, description="best cosine of the need and one sentence of the offering's own text")
    log_odds: float = Field(0.0, description="the sum of the contributions; score = 1 / (1 + exp(-log_odds))")
    contributions: dict[str, float] = Field(
        default_factory=dict,
        description="log-odds per part: intercept, dense, sentence, lexical, taxonomy, sector, constraints and learned "
        "(curator decisions); they sum to log_odds",
    )


class SentencePairRead(BaseModel):
    need_sentence: str
    technology_sentence: str
    similarity: float


class ConstraintVerdictRead(BaseModel):
    name: str
    satisfied: bool
    detail: str


class ExplanationRead(BaseModel):
    summary: str = Field(description="one line in the reader's language: the SME's for a match, English for a lead")
    sentence_pairs: list[SentencePairRead] = Field(description="sentences quoted from the two parties' own texts")
    shared_terms: list[str]
    shared_categories: list[str]
    need_categories: list[str]
    constraints: list[ConstraintVerdictRead]
    strength: str = Field("", description="strong (score >= 0.6), good (>= 0.4), possible (>= the match threshold)")
    language: str = Field("en", description="the language the summary and verdicts are written in")
    competences: list[str] = Field(
        default_factory=list, description="what the offering's users must be able to do, as its provider wrote it"
    )
    competence_gap: list[str] = Field(
        default_factory=list,
        description="those of `competences` the SME does not list among its skills: what its people would need "
        "to learn; the summary names them in the reader's language",
    )


class MatchRead(BaseModel):
    """A technology proposed for a need; `status` is None for ad-hoc matches, which are not stored."""

    need_id: int
    technology_id: int
    technology_ref: str | None
    title: str
    provider_id: int
    provider_name: str
    rank: int
    score: float = Field(description="the probability that the offering solves the need's core problem")
    components: ComponentsRead
    explanation: ExplanationRead | None
    status: MatchStatus | None
    reviewed: bool


class NeedMatches(BaseModel):
    need_id: int
    includes_unreviewed: bool
    fit: Fit = Field(description=FIT_DESCRIPTION)
    message: str | None = Field(None, description="when nothing fits: the plain answer, in the need's language")
    items: list[MatchRead]


class AdHocMatchRequest(Input):
    text: Annotated[str, Field(min_length=1)]
    k: K | None = None
    constraints: ConstraintsIn = Field(default_factory=ConstraintsIn)


class AdHocMatches(BaseModel):
    k: int
    fit: Fit = Field(description=FIT_DESCRIPTION)
    message: str | None = Field(None, description="when nothing fits: the plain answer, in the text's language")
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
    score: float = Field(description="the probability that the technology solves the need's core problem")
    components: ComponentsRead
    explanation: ExplanationRead | None


class TechnologyLeads(BaseModel):
    technology_id: int
    fit: Fit = Field(description=FIT_DESCRIPTION.replace("catalogue", "stored needs"))
    items: list[LeadRead] = Field(description="only needs at or above the match threshold")
