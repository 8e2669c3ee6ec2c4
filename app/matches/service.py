"""Matching use cases: compute and store a need's matches, read them, ad-hoc matches, leads."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import asdict

from sqlalchemy.orm import Session

from app import models
from app.catalogue.records import need_record, technology_record
from app.catalogue.repository import NeedRepository, TechnologyRepository
from app.catalogue.service import check_text_limits, get_need, get_technology
from app.core.settings import Settings
from app.matches.repository import MatchRepository
from app.matches.schemas import (
    AdHocMatches,
    AdHocMatchRequest,
    ComponentsRead,
    ExplanationRead,
    Fit,
    LeadRead,
    MatchRead,
    NeedMatches,
    TechnologyLeads,
)
from app.models import MatchStatus
from app.webhooks.service import enqueue_event, need_matched_payload
from matching import types
from matching.language.detection import text_language
from matching.language.wording import wording_language
from matching.matcher import Matcher
from matching.ranking.bands import NOTHING_FITS_THRESHOLD, fit_of
from matching.retrieval.texts import need_text

logger = logging.getLogger(__name__)

AD_HOC_NEED_ID = 0

# The plain answer when nothing in the catalogue reaches the match threshold, in the need's language:
# for a stored need (which curators see) and for an ad-hoc text (stored nowhere).
NOTHING_FITS = {
    "en": (
        "Nothing in the catalogue fits this need well enough to suggest it. The curators see the need "
        "and can look for a provider, or you can describe the problem in other words."
    ),
    "da": (
        "Intet i kataloget passer godt nok til dette behov til at foreslå det. Kuratorerne kan se behovet "
        "og lede efter en leverandør, eller I kan beskrive problemet med andre ord."
    ),
}
NOTHING_FITS_AD_HOC = {
    "en": (
        "Nothing in the catalogue fits this need well enough to suggest it. Describe the problem in other "
        "words, or submit it as a need so that the curators can look for a provider."
    ),
    "da": (
        "Intet i kataloget passer godt nok til dette behov til at foreslå det. Beskriv problemet med andre "
        "ord, eller indsend det som et behov, så kuratorerne kan lede efter en leverandør."
    ),
}


def nothing_fits_message(fit: Fit, language: str, *, stored: bool = True) -> str | None:
    """The plain answer for a list whose verdict is "none"; None otherwise."""
    if fit != "none":
        return None
    return (NOTHING_FITS if stored else NOTHING_FITS_AD_HOC)[wording_language(language)]


def _passing(results: list[types.Match], threshold: float) -> list[types.Match]:
    """The results at or above the match threshold, ranked 1.. again."""
    kept = [m for m in results if m.score >= threshold]
    return [dataclasses.replace(m, rank=rank) for rank, m in enumerate(kept, start=1)]


def _components(components: types.ScoreComponents) -> ComponentsRead:
    # from_attributes reads the dataclass directly; asdict() deep-copies it first (a hot spot under load).
    return ComponentsRead.model_validate(components, from_attributes=True)


def _explanation(explanation: types.Explanation | None) -> ExplanationRead | None:
    return None if explanation is None else ExplanationRead.model_validate(explanation, from_attributes=True)


def _match_read(
    technology: models.Technology,
    *,
    need_id: int,
    rank: int,
    score: float,
    components: ComponentsRead,
    explanation: ExplanationRead | None,
    status: MatchStatus | None,
) -> MatchRead:
    """One result row, stored or ad hoc, with its technology's identity."""
    return MatchRead(
        need_id=need_id,
        technology_id=technology.id,
        technology_ref=technology.ref,
        title=technology.title,
        provider_id=technology.provider_id,
        provider_name=technology.provider.name,
        rank=rank,
        score=score,
        components=components,
        explanation=explanation,
        status=status,
        reviewed=status is not None and status != MatchStatus.proposed,
    )


def _stored_match_read(row: models.Match) -> MatchRead:
    return _match_read(
        row.technology,
        need_id=row.need_id,
        rank=row.rank,
        score=row.score,
        components=ComponentsRead.model_validate(row.components),
        explanation=None if row.explanation is None else ExplanationRead.model_validate(row.explanation),
        status=row.status,
    )


def _hidden_technologies(session: Session, *, tenant: str | None, shared: bool) -> set[int]:
    """Technologies of other tenants, which a tenant's results leave out unless the catalogue is shared."""
    if tenant is None or shared:
        return set()
    return TechnologyRepository(session).ids_of_other_tenants(tenant)


def _release_connection(session: Session) -> None:
    """Ends the (read-only so far) transaction, so the connection goes back to the pool during a match.

    A match takes seconds under load; holding a pooled connection across it made concurrent requests
    beyond the pool's size wait 30 s for one and fail. Objects stay loaded
    (expire_on_commit is off) and the next query opens a new transaction.
    """
    session.commit()


def propose(session: Session, *, need: models.Need, matcher: Matcher, settings: Settings) -> NeedMatches:
    """A need's proposals for the curators, as the service's settings say (k, threshold, shared catalogue).

    Commits what the session holds first (`compute_matches` releases its connection during the match)."""
    return compute_matches(
        session,
        matcher=matcher,
        need_id=need.id,
        k=settings.default_k,
        tenant=need.tenant,
        shared=settings.share_catalogue,
        threshold=settings.match_threshold,
    )


def compute_matches(
    session: Session,
    *,
    matcher: Matcher,
    need_id: int,
    k: int,
    tenant: str | None = None,
    shared: bool = True,
    threshold: float = NOTHING_FITS_THRESHOLD,
) -> NeedMatches:
    """Replace the need's proposed matches with up to k fresh ones; curator decisions are kept.

    Technologies already approved or rejected for this need are excluded, so a rejected pair is
    never proposed again and an approved one is not duplicated.
    """
    need = get_need(session, need_id=need_id, tenant=tenant)
    repository = MatchRepository(session)
    decided = repository.decisions(need.id)
    exclude = set(decided) | _hidden_technologies(session, tenant=need.tenant, shared=shared)
    record = need_record(need)
    _release_connection(session)
    # Below the threshold a pair is no match: it is not proposed, so the review queue holds no junk.
    results = _passing(matcher.match(record, k=k, exclude=exclude, explain=True), threshold)
    # Written after the match: a write lock is then held for milliseconds, not across the match.
    repository.delete_proposed(need.id)
    # A curator may have decided on a proposed pair while the match ran; that row survived the
    # delete and must not be proposed again (it would also break the need/technology uniqueness).
    decided_meanwhile = set(repository.decisions(need.id)) - set(decided)
    results = [m for m in results if m.technology_id not in decided_meanwhile]
    known = TechnologyRepository(session).by_ids({m.technology_id for m in results})
    fresh = [
        models.Match(
            need_id=need.id,
            technology_id=m.technology_id,
            score=m.score,
            rank=m.rank,
            components=asdict(m.components),
            explanation=None if m.explanation is None else asdict(m.explanation),
            status=MatchStatus.proposed,
        )
        for m in _present(results, known)
    ]
    repository.add_all(fresh)
    # Approved rows kept their old ranks and the new ones start at 1: number them all again, best first.
    repository.renumber(need.id)
    rows = repository.of_need(need.id, statuses=(MatchStatus.approved, MatchStatus.proposed))
    result = _need_matches(need, rows, includes_unreviewed=True, threshold=threshold)
    # In this transaction: the tenant's webhooks hear of the matches exactly when they are stored.
    enqueue_event(session, tenant=need.tenant, event="need.matched", payload=need_matched_payload(need, result))
    return result


def _need_matches(
    need: models.Need, rows: list[models.Match], *, includes_unreviewed: bool, threshold: float
) -> NeedMatches:
    fit = fit_of([r.score for r in rows], threshold=threshold)
    language = text_language(need_text(need_record(need)), declared=need.lang)
    return NeedMatches(
        need_id=need.id,
        includes_unreviewed=includes_unreviewed,
        fit=fit,
        message=nothing_fits_message(fit, language),
        items=[_stored_match_read(r) for r in rows],
    )


def read_matches(
    session: Session,
    *,
    need_id: int,
    show_unreviewed: bool,
    tenant: str | None = None,
    threshold: float = NOTHING_FITS_THRESHOLD,
) -> NeedMatches:
    """Approved matches, best first; with `show_unreviewed`, proposed ones too, marked as such."""
    need = get_need(session, need_id=need_id, tenant=tenant)
    statuses = (MatchStatus.approved, MatchStatus.proposed) if show_unreviewed else (MatchStatus.approved,)
    rows = MatchRepository(session).of_need(need.id, statuses=statuses)
    return _need_matches(need, rows, includes_unreviewed=show_unreviewed, threshold=threshold)


def ad_hoc_matches(
    session: Session,
    *,
    matcher: Matcher,
    request: AdHocMatchRequest,
    settings: Settings,
    tenant: str | None = None,
) -> AdHocMatches:
    """Technologies for a text that is not stored; nothing is written."""
    check_text_limits(request, max_chars=settings.max_text_chars)
    k = request.k or settings.default_k
    wanted = request.constraints
    constraints = types.Constraints(
        budget_eur_max=wanted.budget_eur_max,
        min_trl=wanted.min_trl,
        region=wanted.region,
        languages=tuple(wanted.languages) if wanted.languages else None,
    )
    need = types.Need(id=AD_HOC_NEED_ID, title="", description=request.text, constraints=constraints)
    hidden = _hidden_technologies(session, tenant=tenant, shared=settings.share_catalogue)
    _release_connection(session)
    results = _passing(matcher.match(need, k=k, exclude=hidden, explain=True), settings.match_threshold)
    known = TechnologyRepository(session).by_ids({m.technology_id for m in results})
    items = [
        _match_read(
            known[m.technology_id],
            need_id=AD_HOC_NEED_ID,
            rank=m.rank,
            score=m.score,
            components=_components(m.components),
            explanation=_explanation(m.explanation),
            status=None,
        )
        for m in _present(results, known)
    ]
    fit = fit_of([m.score for m in items], threshold=settings.match_threshold)
    return AdHocMatches(
        k=k, fit=fit, message=nothing_fits_message(fit, text_language(request.text), stored=False), items=items
    )


def technology_leads(
    session: Session,
    *,
    matcher: Matcher,
    technology_id: int,
    k: int,
    tenant: str | None = None,
    shared: bool = True,
    threshold: float = NOTHING_FITS_THRESHOLD,
) -> TechnologyLeads:
    """The stored needs the technology fits best: only the caller's tenant's needs."""
    technology = get_technology(session, technology_id=technology_id, tenant=tenant, shared=shared)
    # The index holds every tenant's needs; another tenant's are never a lead.
    hidden = NeedRepository(session).ids_of_other_tenants(tenant) if tenant is not None else set()
    record = technology_record(technology)
    _release_connection(session)
    results = _passing(matcher.leads(record, k=k, exclude=hidden, explain=True), threshold)
    known = NeedRepository(session).by_ids({m.need_id for m in results})
    items = []
    for m in results:
        need = known.get(m.need_id)
        if need is None:
            logger.warning("index holds need %d that the database does not", m.need_id)
            continue
        items.append(
            LeadRead(
                technology_id=technology.id,
                need_id=need.id,
                need_ref=need.ref,
                title=need.title,
                company_id=need.company_id,
                company_name=need.company.name,
                lang=need.lang,
                rank=m.rank,
                score=m.score,
                components=_components(m.components),
                explanation=_explanation(m.explanation),
            )
        )
    return TechnologyLeads(
        technology_id=technology.id, fit=fit_of([i.score for i in items], threshold=threshold), items=items
    )


def _present(results: list[types.Match], known: dict[int, models.Technology]) -> list[types.Match]:
    # The index can only run ahead of the database after a crash; readiness reports that case.
    present = [m for m in results if m.technology_id in known]
    if len(present) != len(results):
        logger.warning("index holds technologies that the database does not; skipped them")
    return present
