"""Request and response bodies: Create / Update / Read per resource, pages and matches."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Generic, Self, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from app.config import MAX_K
from app.models import MatchStatus
from matching.types import CATEGORIES, REGIONS, SECTORS

TITLE_MAX = 300
NAME_MAX = 300


def _member_of(allowed: tuple[str, ...], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"unknown {what} {value!r}; use one of: {', '.join(allowed)}")
        return value

    return check


Category = Annotated[
    str,
    AfterValidator(_member_of(CATEGORIES, "category")),
    Field(json_schema_extra={"enum": list(CATEGORIES)}),
]
Sector = Annotated[
    str,
    AfterValidator(_member_of(SECTORS, "sector")),
    Field(json_schema_extra={"enum": list(SECTORS)}),
]
Region = Annotated[
    str,
    AfterValidator(_member_of(REGIONS, "region")),
    Field(json_schema_extra={"enum": list(REGIONS)}),
]
Language = Annotated[str, Field(pattern=r"^[a-z]{2}$", description="ISO 639-1 code")]
Ref = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^\S+$")]
Title = Annotated[str, Field(min_length=1, max_length=TITLE_MAX)]
Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX)]
# The cap on long texts is a setting; services enforce it (see services.catalogue.check_text_limits).
LongText = str
Trl = Annotated[int, Field(ge=1, le=9)]
Euros = Annotated[int, Field(ge=0)]
K = Annotated[int, Field(ge=1, le=MAX_K)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _not_null(value: object) -> object:
    # Update fields default to None meaning "leave as is"; an explicit null must not clear them.
    if value is None:
        raise ValueError("may not be null")
    return value


def _check_price_range(low: int | None, high: int | None) -> None:
    if low is not None and high is not None and low > high:
        raise ValueError("price_min_eur must not be above price_max_eur")


# Providers


class ProviderBase(Input):
    name: Name
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    region: Region | None = None
    description: LongText = ""
    website: Annotated[str, Field(max_length=500)] | None = None


class ProviderCreate(ProviderBase):
    ref: Ref | None = None


class ProviderUpdate(Input):
    ref: Ref | None = None
    name: Name | None = None
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    region: Region | None = None
    description: LongText | None = None
    website: Annotated[str, Field(max_length=500)] | None = None

    _required = field_validator("name", "description")(_not_null)


class ProviderRead(Output):
    id: int
    ref: str | None
    name: str
    country: str | None
    region: str | None
    description: str
    website: str | None
    created_at: datetime
    updated_at: datetime


# Technologies


class TechnologyCreate(Input):
    ref: Ref | None = None
    provider_id: int
    title: Title
    description: LongText = ""
    categories: list[Category] = Field(default_factory=list, max_length=len(CATEGORIES))
    sectors: list[Sector] = Field(default_factory=list, max_length=len(SECTORS))
    trl: Trl | None = None
    price_min_eur: Euros | None = None
    price_max_eur: Euros | None = None
    languages: list[Language] = Field(default_factory=list, max_length=30)
    regions_served: list[Region] = Field(default_factory=list, max_length=len(REGIONS))

    @model_validator(mode="after")
    def _price_range(self) -> Self:
        _check_price_range(self.price_min_eur, self.price_max_eur)
        return self


class TechnologyUpdate(Input):
    ref: Ref | None = None
    provider_id: int | None = None
    title: Title | None = None
    description: LongText | None = None
    categories: list[Category] | None = Field(None, max_length=len(CATEGORIES))
    sectors: list[Sector] | None = Field(None, max_length=len(SECTORS))
    trl: Trl | None = None
    price_min_eur: Euros | None = None
    price_max_eur: Euros | None = None
    languages: list[Language] | None = Field(None, max_length=30)
    regions_served: list[Region] | None = Field(None, max_length=len(REGIONS))

    _required = field_validator(
        "provider_id", "title", "description", "categories", "sectors", "languages",
        "regions_served",
    )(_not_null)

    @model_validator(mode="after")
    def _price_range(self) -> Self:
        _check_price_range(self.price_min_eur, self.price_max_eur)
        return self


class TechnologyRead(Output):
    id: int
    ref: str | None
    provider_id: int
    provider_name: str
    title: str
    description: str
    categories: list[str]
    sectors: list[str]
    trl: int | None
    price_min_eur: int | None
    price_max_eur: int | None
    languages: list[str]
    regions_served: list[str]
    created_at: datetime
    updated_at: datetime


# Companies


class CompanyCreate(Input):
    ref: Ref | None = None
    name: Name
    sector: Sector | None = None
    employees: Annotated[int, Field(ge=0)] | None = None
    region: Region | None = None
    description: LongText = ""


class CompanyUpdate(Input):
    ref: Ref | None = None
    name: Name | None = None
    sector: Sector | None = None
    employees: Annotated[int, Field(ge=0)] | None = None
    region: Region | None = None
    description: LongText | None = None

    _required = field_validator("name", "description")(_not_null)


class CompanyRead(Output):
    id: int
    ref: str | None
    name: str
    sector: str | None
    employees: int | None
    region: str | None
    description: str
    created_at: datetime
    updated_at: datetime


# Needs


class ConstraintsIn(Input):
    budget_eur_max: Euros | None = None
    min_trl: Trl | None = None
    region: Region | None = None
    languages: list[Language] | None = Field(None, max_length=30)


class ConstraintsRead(Output):
    budget_eur_max: int | None
    min_trl: int | None
    region: str | None
    languages: list[str] | None


class NeedCreate(Input):
    ref: Ref | None = None
    company_id: int
    title: Title
    description: LongText = ""
    lang: Language = "en"
    constraints: ConstraintsIn = Field(default_factory=ConstraintsIn)


class NeedUpdate(Input):
    ref: Ref | None = None
    company_id: int | None = None
    title: Title | None = None
    description: LongText | None = None
    lang: Language | None = None
    # Replaces the need's constraints as a whole.
    constraints: ConstraintsIn | None = None

    _required = field_validator("company_id", "title", "description", "lang", "constraints")(
        _not_null
    )


class NeedRead(Output):
    id: int
    ref: str | None
    company_id: int
    company_name: str
    title: str
    description: str
    lang: str
    constraints: ConstraintsRead
    created_at: datetime
    updated_at: datetime


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


# Matches


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
