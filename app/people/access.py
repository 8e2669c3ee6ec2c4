"""What a signed-in person may see of the data: the company and provider scoping every service applies.

Staff see every company and provider of their tenant; an SME member only its own company (and its
needs); a provider member only its own provider (its offerings and the leads released to it).
Another tenant's row is a 404, as if it did not exist; a row of the person's tenant that is not
theirs is a 403.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.core.errors import Forbidden, NotFound
from app.models import STAFF_ROLES, Company, Person, Provider, Role
from app.people.repository import PersonRepository

NOT_YOUR_COMPANY = "This page belongs to another company."
NOT_YOUR_PROVIDER = "This page belongs to another provider."
NOT_FOR_YOUR_ROLE = "This page is not for your role."


def visible_company_ids(person: Person) -> frozenset[int] | None:
    """The companies a person may see: None for all of the tenant's (staff), else the set (maybe empty)."""
    if person.role in STAFF_ROLES:
        return None
    return frozenset({person.company_id}) if person.role is Role.sme and person.company_id is not None else frozenset()


def visible_provider_ids(person: Person) -> frozenset[int] | None:
    """The providers a person may see as their own: None for all of the tenant's (staff), else the set."""
    if person.role in STAFF_ROLES:
        return None
    if person.role is Role.provider and person.provider_id is not None:
        return frozenset({person.provider_id})
    return frozenset()


def company_for(session: Session, person: Person, company_id: int) -> Company:
    """The company, if `person` may see it: 404 for another tenant's or a missing one, 403 for another's."""
    company = PersonRepository(session).company(company_id, tenant=person.tenant)
    if company is None:
        raise NotFound(f"no company with id {company_id}")
    visible = visible_company_ids(person)
    if visible is not None and company.id not in visible:
        raise Forbidden(NOT_YOUR_COMPANY if person.role is Role.sme else NOT_FOR_YOUR_ROLE)
    return company


def provider_for(session: Session, person: Person, provider_id: int) -> Provider:
    """The provider, if `person` may see it as its own: 404 for another tenant's or a missing one, 403 for
    another's."""
    provider = PersonRepository(session).provider(provider_id, tenant=person.tenant)
    if provider is None:
        raise NotFound(f"no provider with id {provider_id}")
    visible = visible_provider_ids(person)
    if visible is not None and provider.id not in visible:
        raise Forbidden(NOT_YOUR_PROVIDER if person.role is Role.provider else NOT_FOR_YOUR_ROLE)
    return provider
