"""Request and response bodies of the catalogue: Create / Update / Read per resource."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    Field,
    field_validator,
    model_validator,
)

from app.core.schemas import (
    Category,
    Euros,
    Input,
    Language,
    LongText,
    Name,
    Output,
    Ref,
    Region,
    Sector,
    Title,
    Trl,
    _not_null,
    _printable,
)
from matching.types import CATEGORIES, REGIONS, SECTORS

# A competence or skill: a short phrase ("PLC programming", "svejsecertifikat"), as the party writes it.
Competence = Annotated[str, Field(min_length=1, max_length=120), AfterValidator(_printable)]
MAX_COMPETENCES = 30


def _check_price_range(low: int | None, high: int | None) -> None:
    if low is not None and high is not None and low > high:
        raise ValueError("price_min_eur must not be above price_max_eur")


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
    competences: list[Competence] = Field(
        default_factory=list,
        max_length=MAX_COMPETENCES,
        description="what the offering's users must be able to do: skills, roles, training it needs",
    )

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
    competences: list[Competence] | None = Field(None, max_length=MAX_COMPETENCES)

    _required = field_validator(
        "provider_id",
        "title",
        "description",
        "categories",
        "sectors",
        "languages",
        "regions_served",
        "competences",
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
    competences: list[str]
    created_at: datetime
    updated_at: datetime


class CompanyCreate(Input):
    ref: Ref | None = None
    name: Name
    sector: Sector | None = None
    employees: Annotated[int, Field(ge=0)] | None = None
    region: Region | None = None
    description: LongText = ""
    skills: list[Competence] = Field(
        default_factory=list, max_length=MAX_COMPETENCES, description="what the company's people can already do"
    )


class CompanyUpdate(Input):
    ref: Ref | None = None
    name: Name | None = None
    sector: Sector | None = None
    employees: Annotated[int, Field(ge=0)] | None = None
    region: Region | None = None
    description: LongText | None = None
    skills: list[Competence] | None = Field(None, max_length=MAX_COMPETENCES)

    _required = field_validator("name", "description", "skills")(_not_null)


class CompanyRead(Output):
    id: int
    ref: str | None
    name: str
    sector: str | None
    employees: int | None
    region: str | None
    description: str
    skills: list[str]
    created_at: datetime
    updated_at: datetime


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
