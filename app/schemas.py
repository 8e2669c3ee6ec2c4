"""Request and response bodies: Create / Update / Read per resource, pages and matches."""

from __future__ import annotations

import re
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
from matching.pairing.optimiser import FAIRNESS_MODES
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


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _printable(value: str) -> str:
    # Control characters (NUL, ESC, ...) are never part of a profile: PostgreSQL refuses NUL in
    # text, and terminals and CSV exports would act on the others. Tabs and line breaks stay.
    # One regex scan (every text field of every imported row passes here), not a Python loop.
    if _CONTROL.search(value) is None:
        return value
    bad = sorted({f"U+{ord(c):04X}" for c in _CONTROL.findall(value)})
    raise ValueError(f"control characters are not allowed: {', '.join(bad[:5])}")


Title = Annotated[str, Field(min_length=1, max_length=TITLE_MAX), AfterValidator(_printable)]
Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX), AfterValidator(_printable)]
# The cap on long texts is a setting; services enforce it (see services.catalogue.check_text_limits).
LongText = Annotated[str, AfterValidator(_printable)]
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
        "provider_id",
        "title",
        "description",
        "categories",
        "sectors",
        "languages",
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

    _required = field_validator("company_id", "title", "description", "lang", "constraints")(_not_null)


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
    total: int = Field(description="items matching the filters, on every page")
    limit: int
    offset: int
    next_cursor: str | None = Field(
        None,
        description="pass as `cursor` for the next page; absent or null on the last page (lists that support it)",
    )


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


# Demo-day pairing

MAX_PLAN_COMPANIES = 5000
MAX_PLAN_PROVIDERS = 1000
MAX_ROUNDS = 100

Fairness = Annotated[
    str,
    AfterValidator(_member_of(FAIRNESS_MODES, "fairness mode")),
    Field(
        json_schema_extra={"enum": list(FAIRNESS_MODES)},
        description=(
            "none: most total score; coverage: as many SMEs as possible get a demo, then total; "
            "maximin: then the worst-off SME's best demo as good as possible, then total"
        ),
    ),
]


def _unique_ids(values: list[int]) -> list[int]:
    if len(set(values)) != len(values):
        raise ValueError("ids must not repeat")
    return values


class PairIn(Input):
    company_id: int
    provider_id: int


class PairRead(BaseModel):
    company_id: int
    provider_id: int


class PairingPlanCreate(Input):
    name: Name | None = None
    company_ids: Annotated[list[int], AfterValidator(_unique_ids)] = Field(min_length=1, max_length=MAX_PLAN_COMPANIES)
    provider_ids: Annotated[list[int], AfterValidator(_unique_ids)] = Field(min_length=1, max_length=MAX_PLAN_PROVIDERS)
    capacities: dict[int, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict, description="demo slots per provider id"
    )
    default_capacity: Annotated[int, Field(ge=0)] | None = Field(
        None, description="slots of a provider missing from capacities"
    )
    max_per_company: Annotated[int, Field(ge=0, le=MAX_ROUNDS)]
    rounds: Annotated[int, Field(ge=1, le=MAX_ROUNDS)] | None = Field(
        None, description="rounds in the day; default: as few as the plan needs"
    )
    tables: dict[int, Annotated[int, Field(ge=1, le=100)]] = Field(
        default_factory=dict, description="demo tables per provider id (default 1)"
    )
    min_score: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    fairness: Fairness = "none"
    must_pairs: list[PairIn] = Field(default_factory=list, max_length=10_000)
    never_pairs: list[PairIn] = Field(default_factory=list, max_length=100_000)
    author: Name | None = None

    @model_validator(mode="after")
    def _known_providers(self) -> Self:
        providers = set(self.provider_ids)
        for name in ("capacities", "tables"):
            stray = sorted(set(getattr(self, name)) - providers)
            if stray:
                raise ValueError(f"{name} names provider(s) not in provider_ids: {stray}")
        missing = sorted(providers - set(self.capacities))
        if missing and self.default_capacity is None:
            raise ValueError(f"no capacity for provider(s) {missing}; give them or default_capacity")
        return self


class PairingRevisionCreate(Input):
    lock: list[PairIn] = Field(default_factory=list, max_length=10_000, description="pairs that must stay")
    remove: list[PairIn] = Field(default_factory=list, max_length=10_000, description="pairs never to be made again")
    author: Name | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if not self.lock and not self.remove:
            raise ValueError("a revision locks or removes at least one pair")
        return self


class PairingAssignmentRead(BaseModel):
    company_id: int
    company_ref: str | None
    company_name: str
    provider_id: int
    provider_ref: str | None
    provider_name: str
    score: float
    locked: bool
    round: int | None
    table: int | None


class PairingTotals(BaseModel):
    total_score: float
    greedy_total_score: float
    optimal: bool
    bound: float | None
    gap: float | None
    pairs: int
    covered_companies: int
    unassigned_companies: int
    worst_best_score: float | None
    rounds: int
    unscheduled: int
    seconds: float


class PairingRevisionRead(BaseModel):
    number: int
    created_at: datetime
    author: str | None
    note: str | None
    locked: list[PairRead]
    removed: list[PairRead]
    added: list[PairRead]
    dropped: list[PairRead]
    totals: PairingTotals


class PairingPlanRead(BaseModel):
    id: int
    name: str | None
    fairness: str
    min_score: float
    max_per_company: int
    rounds: int | None
    company_ids: list[int]
    provider_ids: list[int]
    capacities: dict[int, int]
    tables: dict[int, int]
    must_pairs: list[PairRead]
    never_pairs: list[PairRead]
    revision: int
    created_at: datetime
    updated_at: datetime
    totals: PairingTotals
    assignments: list[PairingAssignmentRead]
    unscheduled: list[PairRead]
    unassigned_company_ids: list[int]


class PairingPlanSummary(BaseModel):
    id: int
    name: str | None
    fairness: str
    revision: int
    companies: int
    providers: int
    created_at: datetime
    updated_at: datetime
    totals: PairingTotals


class PairingHistory(BaseModel):
    plan_id: int
    items: list[PairingRevisionRead]
