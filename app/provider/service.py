"""What the provider member's pages show and change: its provider, its offerings, the leads released to it
and its answers to them; nothing else.

Released: a lead is a match of one of the provider's offerings with a need of the provider's tenant. It is
released to the provider when a curator approved it (approval releases a match to both sides: the SME
sees it as a suggestion, the provider as a lead), unless the SME marked it not relevant. Whether the SME
asked for an introduction is shown with it. Proposed and rejected matches, and other tenants' needs,
never reach a provider.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.catalogue import service as catalogue
from app.catalogue.records import technology_record
from app.catalogue.repository import NeedRepository
from app.catalogue.schemas import TechnologyUpdate
from app.core.errors import Forbidden, NotFound
from app.core.settings import Settings
from app.models import Match, MatchFeedback, Need, Person, Provider, Technology
from app.people.access import NOT_FOR_YOUR_ROLE, NOT_YOUR_PROVIDER, provider_for
from app.provider.repository import ProviderPagesRepository
from app.review import service as review
from matching import types
from matching.matcher import Matcher
from matching.ranking.bands import NOTHING_FITS_THRESHOLD, Strength, strength
from matching.ranking.explanation import summarise

logger = logging.getLogger(__name__)

MAX_LEADS = 100
PREVIEW_LEADS = 10


@dataclass(frozen=True, slots=True)
class ProviderOverview:
    provider: Provider
    offerings: list[Technology]
    leads: list[tuple[Match, Need]]


@dataclass(frozen=True, slots=True)
class Lead:
    """A released match as its provider reads it: the need, why it fits (written to the provider), answers."""

    match: Match
    need: Need
    company_name: str
    strength: Strength
    summary: str
    sme_asked: bool
    answer: MatchFeedback | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferingForm:
    """The parts of an offering its provider edits on the page."""

    title: str
    description: str
    trl: int | None = None
    price_min_eur: int | None = None
    price_max_eur: int | None = None

    def update(self) -> TechnologyUpdate:
        return TechnologyUpdate(
            title=self.title,
            description=self.description,
            trl=self.trl,
            price_min_eur=self.price_min_eur,
            price_max_eur=self.price_max_eur,
        )


@dataclass(frozen=True, slots=True)
class PreviewLead:
    """A need the edited offering would fit. Its title and company are shown only when the need is already
    released to the provider; another SME's unreleased need stays anonymous (just its strength)."""

    need_title: str | None
    company_name: str | None
    score: float
    strength: Strength


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


def _lead_summary(match: Match, need: Need, company_name: str, *, threshold: float) -> str:
    """The match's explanation written to the provider about the SME (never "your need")."""
    stored: dict[str, Any] = match.explanation or {}
    pairs = [
        types.SentencePair(p["need_sentence"], p["technology_sentence"], float(p.get("similarity", 0.0)))
        for p in stored.get("sentence_pairs") or []
    ]
    verdicts = [
        types.ConstraintVerdict(v["name"], bool(v["satisfied"]), v.get("detail", ""))
        for v in stored.get("constraints") or []
    ]
    return summarise(
        score=match.score,
        technology_title=match.technology.title,
        sentence_pairs=pairs,
        shared_categories=stored.get("shared_categories") or [],
        verdicts=verdicts,
        threshold=threshold,
        lead_company=company_name,
        need_title=need.title,
    )


def leads(session: Session, person: Person, *, threshold: float = NOTHING_FITS_THRESHOLD) -> list[Lead]:
    """The leads released to the person's provider (see the module's docstring), best first."""
    provider = own_provider(session, person)
    rows = ProviderPagesRepository(session).released_leads(provider.id, tenant=person.tenant, limit=MAX_LEADS)
    answers = review.feedback_of(session, [match.id for match, _ in rows])
    found = []
    for match, need in rows:
        company_name = need.company.name
        parties = answers.get(match.id, {})
        sme_answer = parties.get(review.Party.sme)
        found.append(
            Lead(
                match=match,
                need=need,
                company_name=company_name,
                strength=strength(match.score, threshold=threshold),
                summary=_lead_summary(match, need, company_name, threshold=threshold),
                sme_asked=sme_answer is not None and sme_answer.verdict == review.Verdict.introduction,
                answer=parties.get(review.Party.provider),
            )
        )
    return found


def answer_lead(session: Session, person: Person, match_id: int, verdict: review.Verdict) -> MatchFeedback:
    """Stores the provider's answer to one of its released leads (the SME and the curators see it)."""
    provider = own_provider(session, person)
    released = ProviderPagesRepository(session).released_leads(provider.id, tenant=person.tenant, limit=MAX_LEADS)
    match = next((m for m, _ in released if m.id == match_id), None)
    if match is None:
        raise NotFound(f"no lead {match_id}")
    return review.record_feedback(
        session, tenant=person.tenant, actor=person.username, party=review.Party.provider, verdict=verdict, match=match
    )


def own_offering(session: Session, person: Person, technology_id: int) -> Technology:
    """An offering of the person's provider: a missing or another tenant's is a 404, another provider's a 403."""
    provider = own_provider(session, person)
    technology = session.get(Technology, technology_id)
    if technology is None or technology.tenant != person.tenant:
        raise NotFound(f"no offering with id {technology_id}")
    if technology.provider_id != provider.id:
        raise Forbidden(NOT_YOUR_PROVIDER)
    return technology


def edit_offering(
    session: Session, person: Person, technology_id: int, *, matcher: Matcher, settings: Settings, form: OfferingForm
) -> Technology:
    """Saves the offering's new words and numbers (the index follows, as for the API)."""
    technology = own_offering(session, person, technology_id)
    return catalogue.update_technology(
        session,
        matcher=matcher,
        technology_id=technology.id,
        data=form.update(),
        settings=settings,
        tenant=person.tenant,
    )


def preview(
    session: Session, person: Person, technology_id: int, *, matcher: Matcher, settings: Settings, form: OfferingForm
) -> list[PreviewLead]:
    """The needs of the tenant the edited offering would now fit best, computed without saving anything
    (needs not released to the provider are counted, never named)."""
    technology = own_offering(session, person, technology_id)
    form.update()  # validates the form as a save would
    record = technology_record(technology)
    edited = types.Technology(
        # Id 0 is never stored: the engine encodes the edited text instead of reusing the stored vector.
        id=0,
        title=form.title,
        description=form.description,
        provider_id=record.provider_id,
        provider_name=record.provider_name,
        categories=record.categories,
        sectors=record.sectors,
        trl=form.trl,
        price_min_eur=form.price_min_eur,
        price_max_eur=form.price_max_eur,
        languages=record.languages,
        regions_served=record.regions_served,
        competences=record.competences,
    )
    hidden = NeedRepository(session).ids_of_other_tenants(person.tenant)
    results = matcher.leads(edited, k=PREVIEW_LEADS, exclude=hidden, explain=False)
    results = [m for m in results if m.score >= settings.match_threshold]
    needs = NeedRepository(session).by_ids({m.need_id for m in results})
    released = {
        need.id
        for _, need in ProviderPagesRepository(session).released_leads(
            technology.provider_id, tenant=person.tenant, limit=MAX_LEADS
        )
    }
    return [
        PreviewLead(
            need_title=needs[m.need_id].title if m.need_id in released else None,
            company_name=needs[m.need_id].company.name if m.need_id in released else None,
            score=m.score,
            strength=strength(m.score, threshold=settings.match_threshold),
        )
        for m in results
        if m.need_id in needs
    ]
