"""Learning from curator decisions: fit a ranking model on every decided match, store it, rank with it.

One model for the whole service, learned from the decisions of every tenant: the engine (one
Matcher) ranks every tenant's needs, and a technology's approve rate is evidence wherever it was
decided. Learning is always regularised toward the default RankingWeights, never toward the
previous model, so repeated learning does not drift.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from app import models
from app.catalogue.records import need_record
from app.catalogue.repository import NeedRepository, TechnologyRepository
from app.core.errors import Conflict, NotFound
from app.learning.repository import RankingRepository
from app.learning.schemas import RankingModelRead
from matching.learning import feedback
from matching.learning.feedback import DEFAULT_PARTS, FeedbackModel, NeedExamples
from matching.matcher import Matcher
from matching.ranking.fusion import RankingWeights

logger = logging.getLogger(__name__)


def decided_examples(session: Session, *, matcher: Matcher) -> list[NeedExamples]:
    """Each decided need's approved and rejected technologies with their features on today's catalogue.

    Features are recomputed rather than read from the stored components: fusion uses dense and
    lexical scores normalised over the whole candidate set, which a stored row does not carry.
    """
    decisions = RankingRepository(session).decisions()
    needs = NeedRepository(session).by_ids(set(decisions))
    examples = []
    for need_id, decided in decisions.items():
        row = needs.get(need_id)
        if row is None:
            continue
        candidates = matcher.match_features(need_record(row))
        if candidates is None:
            continue
        example = feedback.need_examples(need_id=need_id, candidates=candidates, decisions=decided)
        if example is not None:
            examples.append(example)
    return examples


def learn(
    session: Session,
    *,
    matcher: Matcher,
    trained_by: str,
    trained_by_tenant: str | None = None,
    parts: tuple[str, ...] = DEFAULT_PARTS,
) -> models.RankingModel:
    """Fit a model on every decided match, store it as the newest ranking model and rank with it."""
    examples = decided_examples(session, matcher=matcher)
    if not examples:
        raise Conflict("no curator decisions to learn from yet: approve or reject proposed matches first")
    vectors = matcher.catalogue.need_vectors([e.need_id for e in examples])
    model = feedback.fit(examples, base=RankingWeights(), parts=parts, vectors=vectors)
    row = RankingRepository(session).add(
        models.RankingModel(
            trained_by=trained_by,
            trained_by_tenant=trained_by_tenant,
            format_version=model.version,
            decisions=model.decisions,
            approved=model.approved,
            needs=model.needs,
            model=model.as_dict(),
        )
    )
    feedback.apply(matcher, model)
    logger.info("learned a ranking from %d decisions on %d needs", model.decisions, model.needs)
    return row


def model_as_seen_by(session: Session, row: models.RankingModel, *, tenant: str, shared: bool) -> RankingModelRead:
    """The model without what it names of other tenants (their key's name; with an unshared catalogue,
    the priors of their technologies)."""
    hidden = set() if shared else TechnologyRepository(session).ids_of_other_tenants(tenant)
    return RankingModelRead.of(row, tenant=tenant, hidden_technologies=hidden)


def latest_model(session: Session) -> models.RankingModel:
    row = RankingRepository(session).latest()
    if row is None:
        raise NotFound("no ranking model has been learned yet; the default weights are in use")
    return row


def current_model(session: Session) -> FeedbackModel | None:
    row = RankingRepository(session).latest()
    return None if row is None else FeedbackModel.from_dict(row.model)


def load_ranking(session: Session, *, matcher: Matcher) -> FeedbackModel | None:
    """Rank with the newest stored model (start-up); the defaults when there is none or it is unreadable."""
    try:
        model = current_model(session)
    except (ValueError, KeyError, TypeError) as exc:
        # A model written by another format version: rank with the defaults until `learn` runs again.
        logger.warning("ignoring the stored ranking model: %s", exc)
        model = None
    feedback.apply(matcher, model)
    return model
