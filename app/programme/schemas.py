"""Response bodies of the programme's picture (for facilitators' dashboards) and its report (for funders)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class Period(BaseModel):
    start: date | None = Field(description="first day counted (UTC); null: from the beginning")
    end: date | None = Field(description="last day counted (UTC); null: up to now")


class CountRow(BaseModel):
    key: str
    label: str
    count: int


class FunnelStep(BaseModel):
    stage: str = Field(description="proposed, approved, introduced, met, demonstrated, pilot, adopted")
    count: int = Field(description="matches (proposed, approved) or engagements that got at least this far")
    conversion: float | None = Field(
        description="the share of the step before's count that reached this step (for introduced: the approved"
        " matches an engagement started from); null for the first step or after 0"
    )


class WaitingSme(BaseModel):
    company_id: int
    company_name: str
    needs: int
    first_need_at: datetime
    days_waiting: int


class DaysSummary(BaseModel):
    needs: int = Field(description="needs with a demonstration (the measure's sample)")
    median: float | None
    mean: float | None
    p90: float | None
    min: float | None
    max: float | None
    days: list[float] = Field(description="each need's days from its creation to its first demonstration, sorted")


class ProviderLoad(BaseModel):
    provider_id: int
    provider_name: str
    slots: int = Field(description="demo slots given to it in the period's plans")
    demos: int = Field(description="demos the plans' current revisions give it")
    load: float | None = Field(description="demos / slots")
    open_engagements: int
    engagements: int


class ProgrammePicture(BaseModel):
    """What the facilitators' dashboard plots, for one period."""

    period: Period
    needs: int = Field(description="needs created in the period")
    danish_needs: int
    danish_share: float | None = Field(description="danish_needs / needs (declared language)")
    needs_by_category: list[CountRow] = Field(description="needs by the category they are closest to")
    needs_by_sector: list[CountRow] = Field(description="needs by their company's sector")
    funnel: list[FunnelStep]
    declined: int = Field(description="engagements of the period that ended declined")
    declined_by_reason: list[CountRow]
    smes_with_needs: int
    smes_not_served: int = Field(description="SMEs with a need and no engagement at all")
    smes_without_demo: int = Field(description="SMEs with a need and no engagement that reached a demonstration")
    waiting: list[WaitingSme] = Field(description="the SMEs not served, longest waiting first")
    time_to_first_demo: DaysSummary
    provider_load: list[ProviderLoad]


class EngagementRow(BaseModel):
    id: int
    company: str
    provider: str
    technology: str | None
    origin: str
    stage: str
    furthest_stage: str
    end_reason: str | None
    created_at: datetime
    stage_changed_at: datetime
    training_items: int
    training_done: int


class CompetencePlanRow(BaseModel):
    engagement_id: int
    company: str
    provider: str
    technology: str | None
    competence: str
    status: str
    planned_on: date | None


class ProgrammeReport(BaseModel):
    """The programme's results for a period, for its funders (the data of the printable page and the workbook)."""

    period: Period
    generated_at: datetime
    smes_engaged: int = Field(description="SMEs with an engagement created or moved in the period")
    demonstrations_held: int = Field(description="engagements that reached a demonstration in the period")
    pilots: int = Field(description="engagements that reached a pilot in the period")
    adoptions: int = Field(description="engagements adopted in the period")
    declined: int = Field(description="engagements declined in the period")
    competence_plans: int = Field(description="engagements of the period with a competence plan (training items)")
    training_planned: int = Field(description="training items planned or done among them")
    training_done: int
    demo_days: int = Field(description="pairing plans made in the period")
    demo_day_pairs: int = Field(description="pairs in those plans' current revisions")
    funnel: list[FunnelStep]
    engagements: list[EngagementRow] = Field(description="engagements created or moved in the period")
    competences: list[CompetencePlanRow]
