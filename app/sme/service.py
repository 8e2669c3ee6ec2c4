"""What the SME member's pages show: its company and the company's needs, never another company's."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.catalogue.repository import NeedRepository
from app.core.errors import Forbidden
from app.models import Company, Need, Person
from app.people.access import NOT_FOR_YOUR_ROLE, company_for


@dataclass(frozen=True, slots=True)
class CompanyOverview:
    company: Company
    needs: list[Need]


def own_company(session: Session, person: Person) -> Company:
    """An SME member's own company (the home page names it)."""
    if person.company_id is None:
        raise Forbidden(NOT_FOR_YOUR_ROLE)
    return company_for(session, person, person.company_id)


def company_overview(session: Session, person: Person, company_id: int) -> CompanyOverview:
    """A company with its needs, if `person` may see it (app.people.access: its member, or staff of its tenant)."""
    company = company_for(session, person, company_id)
    return CompanyOverview(company=company, needs=NeedRepository(session).of_company(company.id))
