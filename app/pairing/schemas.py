"""Request and response bodies of demo-day plans and their revisions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    model_validator,
)

from app.core.schemas import Input, Name, _member_of
from matching.pairing.optimiser import FAIRNESS_MODES

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
    event_date: date | None = Field(None, description="the demonstration day's date")
    slot_minutes: Annotated[int, Field(ge=5, le=240)] | None = Field(
        None, description="length of one demonstration (one round) in minutes"
    )
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
    min_score: Annotated[float, Field(ge=0.0, le=1.0)] | None = Field(
        None,
        description="no pair below this probability that it is useful; default: the service's match threshold",
    )
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
    technology_id: int | None = Field(
        description="the provider's offering the pair's score comes from (null for plans made before it was kept)"
    )
    technology_ref: str | None
    technology_title: str | None
    need_id: int | None = Field(description="the SME's need the pair's score comes from")
    need_ref: str | None
    need_title: str | None
    score: float
    locked: bool
    round: int | None
    table: int | None


class PairingTotals(BaseModel):
    total_score: float = Field(
        description="sum of the chosen pairs' scores: each is the probability that the pair's best offering "
        "solves one of the SME's needs, so this is the expected number of useful demonstrations"
    )
    expected_useful_demonstrations: float = Field(description="total_score, rounded: what the plan is worth")
    greedy_total_score: float = Field(
        description="the greedy baseline's total, for comparison only: best pairs first while the limits allow, "
        "ignoring fairness. Under coverage or maximin fairness it can be above total_score: it reaches that "
        "total by leaving more SMEs without a demo (greedy_covered_companies)"
    )
    greedy_covered_companies: int | None = Field(
        description="SMEs the greedy baseline gives a demo (null for revisions stored before it was recorded)"
    )
    optimal: bool = Field(description="the solver proved the plan optimal under its fairness mode")
    bound: float | None = Field(description="the solver's proven upper bound on total_score under the fairness mode")
    gap: float | None = Field(description="(bound - total_score) / total_score; 0 when optimal")
    pairs: int
    covered_companies: int = Field(description="SMEs with at least one demo")
    unassigned_companies: int = Field(description="SMEs of the plan without a demo")
    worst_best_score: float | None = Field(description="the worst-off covered SME's best demo score")
    rounds: int
    unscheduled: int = Field(description="chosen pairs that did not fit the rounds")
    seconds: float = Field(description="time the optimiser took")
    summary: str = Field("", description="the totals in one plain sentence, saying what the greedy comparison means")


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
    event_date: date | None
    slot_minutes: int | None
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
    event_date: date | None
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


class PairingRevisionDetail(PairingRevisionRead):
    """One revision as it was: its pairs with rounds and tables."""

    plan_id: int
    assignments: list[PairingAssignmentRead]
    unscheduled_pairs: list[PairRead]


class MovedPair(BaseModel):
    company_id: int
    provider_id: int
    round_before: int | None
    table_before: int | None
    round_after: int | None
    table_after: int | None


class TotalsChange(BaseModel):
    before: float | int | None
    after: float | int | None
    change: float | int | None


class PairingComparison(BaseModel):
    """What changed from one revision of a plan to another."""

    plan_id: int
    from_revision: int
    to_revision: int
    added: list[PairingAssignmentRead] = Field(description="pairs in the later revision only")
    removed: list[PairingAssignmentRead] = Field(description="pairs in the earlier revision only")
    moved: list[MovedPair] = Field(description="pairs in both, at another round or table")
    unchanged: int = Field(description="pairs in both, at the same round and table")
    totals: dict[str, TotalsChange] = Field(
        description="total_score, pairs, covered_companies, worst_best_score, rounds and unscheduled, before and after"
    )
    totals_before: PairingTotals
    totals_after: PairingTotals
