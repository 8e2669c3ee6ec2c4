"""What the SME member's pages show and change: its company's needs, the suggestions released for them, its
answers to those suggestions; never another company's.

A suggestion is a match a curator approved (released). The SME answers it: "ask for an introduction"
opens an engagement at stage introduced (app.engagements) and, like "not relevant", is kept as the SME's
feedback on the match (app.review's MatchFeedback), which the learning reads (app.learning).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.catalogue import service as catalogue
from app.catalogue.repository import NeedRepository
from app.catalogue.schemas import ConstraintsIn, NeedCreate, NeedUpdate
from app.core.errors import Conflict, Forbidden, NotFound
from app.core.settings import Settings
from app.engagements import service as engagements
from app.engagements.repository import EngagementRepository
from app.engagements.schemas import EngagementFromMatch
from app.matches import service as matches
from app.matches.repository import MatchRepository
from app.models import Company, Engagement, Match, MatchFeedback, MatchStatus, Need, Person
from app.people.access import NOT_FOR_YOUR_ROLE, company_for
from app.privacy import service as privacy
from app.privacy.schemas import CompanyExport
from app.review import service as review
from matching.matcher import Matcher
from matching.ranking.bands import NOTHING_FITS_THRESHOLD, Fit, Strength, fit_of, strength


class NeedStatus(enum.StrEnum):
    """Where a need stands, as its SME reads it (derived from its matches, not stored)."""

    suggestions = "suggestions"  # a curator released at least one suggestion
    in_review = "in_review"  # proposals wait for a curator
    nothing_fits = "nothing_fits"  # nothing in the catalogue reached the match threshold


@dataclass(frozen=True, slots=True)
class NeedSummary:
    need: Need
    status: NeedStatus
    released: int


@dataclass(frozen=True, slots=True)
class CompanyOverview:
    company: Company
    needs: list[NeedSummary]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A released match as the SME sees it, with both parties' answers so far."""

    match: Match
    strength: Strength
    answer: MatchFeedback | None
    provider_answer: MatchFeedback | None


@dataclass(frozen=True, slots=True)
class NeedView:
    need: Need
    status: NeedStatus
    fit: Fit
    # The engine's honest answer when nothing released fits (in the need's language); None otherwise.
    message: str | None
    suggestions: list[Suggestion]
    engagements: list[Engagement]


@dataclass(frozen=True, slots=True, kw_only=True)
class NeedForm:
    """A need as the SME describes it on the page (plain words, optional constraints)."""

    title: str
    description: str
    lang: str
    budget_eur_max: int | None = None
    min_trl: int | None = None
    region: str | None = None
    languages: list[str] | None = None

    def constraints(self) -> ConstraintsIn:
        return ConstraintsIn(
            budget_eur_max=self.budget_eur_max,
            min_trl=self.min_trl,
            region=self.region or None,
            languages=self.languages or None,
        )


def own_company(session: Session, person: Person) -> Company:
    """An SME member's own company (the home page names it)."""
    if person.company_id is None:
        raise Forbidden(NOT_FOR_YOUR_ROLE)
    return company_for(session, person, person.company_id)


def _status(statuses: list[MatchStatus]) -> NeedStatus:
    if MatchStatus.approved in statuses:
        return NeedStatus.suggestions
    if MatchStatus.proposed in statuses:
        return NeedStatus.in_review
    return NeedStatus.nothing_fits


def company_overview(session: Session, person: Person, company_id: int) -> CompanyOverview:
    """A company with its needs and their status, if `person` may see it (app.people.access)."""
    company = company_for(session, person, company_id)
    repository = MatchRepository(session)
    summaries = []
    for need in NeedRepository(session).of_company(company.id):
        rows = repository.of_need(need.id, statuses=(MatchStatus.approved, MatchStatus.proposed))
        statuses = [row.status for row in rows]
        summaries.append(
            NeedSummary(need=need, status=_status(statuses), released=statuses.count(MatchStatus.approved))
        )
    return CompanyOverview(company=company, needs=summaries)


def own_need(session: Session, person: Person, need_id: int) -> Need:
    """A need of the person's company: another tenant's or a missing one is a 404, another company's a 403."""
    need = NeedRepository(session).get(need_id)
    if need is None or need.tenant != person.tenant:
        raise NotFound(f"no need with id {need_id}")
    company_for(session, person, need.company_id)
    return need


def need_view(session: Session, person: Person, need_id: int, *, threshold: float = NOTHING_FITS_THRESHOLD) -> NeedView:
    """A need with its released suggestions (approved matches only, best first) and the answers to them."""
    need = own_need(session, person, need_id)
    rows = MatchRepository(session).of_need(need.id, statuses=(MatchStatus.approved, MatchStatus.proposed))
    released = [row for row in rows if row.status is MatchStatus.approved]
    answers = review.feedback_of(session, [row.id for row in released])
    # No released suggestion is "nothing fits", whatever the threshold (a threshold of 0 passes everything).
    fit: Fit = fit_of([row.score for row in released], threshold=threshold) if released else "none"
    return NeedView(
        need=need,
        status=_status([row.status for row in rows]),
        fit=fit,
        message=matches.nothing_fits_message(fit, need.lang),
        suggestions=[
            Suggestion(
                match=row,
                strength=strength(row.score, threshold=threshold),
                answer=answers.get(row.id, {}).get(review.Party.sme),
                provider_answer=answers.get(row.id, {}).get(review.Party.provider),
            )
            for row in released
        ],
        engagements=EngagementRepository(session).of_need(need.id) if released else [],
    )


def describe_need(session: Session, person: Person, *, matcher: Matcher, settings: Settings, form: NeedForm) -> Need:
    """Stores a new need of the person's company and proposes matches for the curators to review."""
    company = own_company(session, person)
    need = catalogue.create_need(
        session,
        matcher=matcher,
        data=NeedCreate(
            company_id=company.id,
            title=form.title,
            description=form.description,
            lang=form.lang,
            constraints=form.constraints(),
        ),
        settings=settings,
        tenant=company.tenant,
    )
    matches.propose(session, need=need, matcher=matcher, settings=settings)
    return need


def edit_need(
    session: Session, person: Person, need_id: int, *, matcher: Matcher, settings: Settings, form: NeedForm
) -> Need:
    """Changes the need's words or constraints; the proposals waiting for a curator are computed again."""
    need = own_need(session, person, need_id)
    need = catalogue.update_need(
        session,
        matcher=matcher,
        need_id=need.id,
        data=NeedUpdate(title=form.title, description=form.description, lang=form.lang, constraints=form.constraints()),
        settings=settings,
        tenant=person.tenant,
    )
    matches.propose(session, need=need, matcher=matcher, settings=settings)
    return need


def withdraw_need(session: Session, person: Person, need_id: int, *, matcher: Matcher) -> None:
    """Deletes the need, its matches and the answers to them (the company no longer has this problem)."""
    need = own_need(session, person, need_id)
    review.forget_feedback(session, need_id=need.id)
    catalogue.delete_need(session, matcher=matcher, need_id=need.id, tenant=person.tenant)


def _released_match(session: Session, need: Need, match_id: int) -> Match:
    match = session.get(Match, match_id)
    if match is None or match.need_id != need.id or match.status is not MatchStatus.approved:
        raise NotFound(f"no suggestion {match_id} for this need")
    return match


def ask_introduction(session: Session, person: Person, need_id: int, match_id: int) -> Engagement:
    """Opens an engagement at stage introduced for a released suggestion and records it as the SME's answer."""
    need = own_need(session, person, need_id)
    match = _released_match(session, need, match_id)
    engagement = engagements.introduce_match(
        session, actor=engagements.member(person), data=EngagementFromMatch(match_id=match.id)
    )
    _answer(session, person, match, review.Verdict.introduction)
    return engagement


def not_relevant(session: Session, person: Person, need_id: int, match_id: int) -> MatchFeedback:
    """Records that the SME finds a released suggestion does not fit its need (the learning reads it)."""
    need = own_need(session, person, need_id)
    match = _released_match(session, need, match_id)
    answered = review.feedback_of(session, [match.id]).get(match.id, {}).get(review.Party.sme)
    if answered is not None and answered.verdict == review.Verdict.introduction:
        raise Conflict("You already asked for an introduction to this offering.")
    return _answer(session, person, match, review.Verdict.not_relevant)


def _answer(session: Session, person: Person, match: Match, verdict: review.Verdict) -> MatchFeedback:
    return review.record_feedback(
        session, tenant=person.tenant, actor=person.username, party=review.Party.sme, verdict=verdict, match=match
    )


def export(session: Session, person: Person) -> CompanyExport:
    """Everything stored about the person's company (the API's export)."""
    company = own_company(session, person)
    return privacy.company_data(session, company_id=company.id, tenant=company.tenant)


def erase(session: Session, person: Person, *, matcher: Matcher, settings: Settings, confirmation: str) -> None:
    """Erases the person's company (the API's erasure), if `confirmation` is the company's name."""
    company = own_company(session, person)
    if confirmation.strip() != company.name:
        raise Conflict("Type the company's name exactly to confirm the erasure.")
    privacy.erase_company(
        session, matcher=matcher, company_id=company.id, tenant=company.tenant, index_dir=settings.index_dir
    )
