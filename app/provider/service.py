"""What the provider member's pages show: its provider, its offerings, the leads released to it; nothing else."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.core.errors import Forbidden
from app.models import Match, Need, Person, Provider, Technology
from app.people.access import NOT_FOR_YOUR_ROLE, provider_for
from app.provider.repository import ProviderPagesRepository

MAX_LEADS = 100


@dataclass(frozen=True, slots=True)
class ProviderOverview:
    provider: Provider
    offerings: list[Technology]
    # Released: approved by a curator, with needs of the person's tenant only.
    leads: list[tuple[Match, Need]]


def own_provider(session: Session, person: Person) -> Provider:
    """A provider member's own provider (the home page names it)."""
    if person.provider_id is None:
        raise Forbidden(NOT_FOR_YOUR_ROLE)
    return provider_for(session, person, person.provider_id)


def provider_overview(session: Session, person: Person, provider_id: int) -> ProviderOverview:
    """A provider with its offerings and released leads, if `person` may see it (app.people.access)."""
    provider = provider_for(session, person, provider_id)
    repository = ProviderPagesRepository(session)
    return ProviderOverview(
        provider=provider,
        offerings=repository.offerings(provider.id),
        leads=repository.released_leads(provider.id, tenant=person.tenant, limit=MAX_LEADS),
    )
