"""Learning from curator decisions: fit a ranking model on every decided match, store it, rank with it.

One model for the whole service, learned from the decisions of every tenant: the engine (one
Matcher) ranks every tenant's needs, and a technology's approve rate is evidence wherever it was
decided. Learning is always regularised toward the default RankingWeights, never toward the
previous model, so repeated learning does not drift.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import threading
from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session

from app import models
from app.catalogue.records import need_record
from app.catalogue.repository import NeedRepository, TechnologyRepository
from app.core.errors import Conflict, NotFound
from app.engagements.schemas import LEARNING_DECLINES
from app.jobs.service import JobContext
from app.learning.repository import RankingRepository
from app.learning.schemas import RankingModelRead
from app.models import ChangeKind
from app.replication.log import record_change
from matching.encoders.names import GLOSSARY_MODEL
from matching.errors import DatasetError
from matching.evaluation.datasets import load_dataset
from matching.learning import feedback
from matching.learning.calibration import LabelledEvidence, calibrate_on, decision_evidence
from matching.learning.feedback import DEFAULT_PARTS, FeedbackModel, NeedExamples
from matching.matcher import Matcher
from matching.ranking.calibration import DEFAULT_CALIBRATION, Calibration
from matching.ranking.fusion import RankingWeights
from matching.retrieval.files import atomic_write

logger = logging.getLogger(__name__)


def decisions_and_weights(session: Session) -> tuple[dict[int, dict[int, bool]], dict[int, dict[int, float]]]:
    """Need id -> technology id -> approved, from curators' decisions, SMEs' answers and engagements'
    outcomes, and the weights of those that are outcomes.

    An SME's answer to a released match (asked for an introduction, or "not relevant") overrides the
    curator's approval: the SME knows its problem. An outcome (adopted, or declined for a reason about
    the fit) overrides both: it is what happened after the introduction, and it weighs OUTCOME_WEIGHT.
    """
    repository = RankingRepository(session)
    decisions = repository.decisions()
    for need_id, answers in repository.sme_answers().items():
        decisions.setdefault(need_id, {}).update(answers)
    weights: dict[int, dict[int, float]] = {}
    for need_id, outcomes in repository.outcomes(declines=LEARNING_DECLINES).items():
        for technology_id, adopted in outcomes.items():
            decisions.setdefault(need_id, {})[technology_id] = adopted
            weights.setdefault(need_id, {})[technology_id] = feedback.OUTCOME_WEIGHT
    return decisions, weights


def decided_examples(session: Session, *, matcher: Matcher) -> list[NeedExamples]:
    """Each decided need's approved and rejected technologies with their features on today's catalogue.

    Features are recomputed rather than read from the stored components: the catalogue, the model or
    the texts may have changed since the match was stored.
    """
    decisions, weights = decisions_and_weights(session)
    needs = NeedRepository(session).by_ids(set(decisions))
    examples = []
    for need_id, decided in decisions.items():
        row = needs.get(need_id)
        if row is None:
            continue
        candidates = matcher.match_features(need_record(row))
        if candidates is None:
            continue
        example = feedback.need_examples(
            need_id=need_id,
            candidates=candidates,
            decisions=decided,
            weights=matcher.weights,
            decision_weights=weights.get(need_id),
        )
        if example is not None:
            examples.append(example)
    return examples


def learn(
    session: Session,
    *,
    matcher: Matcher,
    trained_by: str,
    labels_dir: Path | None = None,
    trained_by_tenant: str | None = None,
    parts: tuple[str, ...] = DEFAULT_PARTS,
) -> models.RankingModel:
    """Fit a model on every decided match, calibrate it, store it as the newest ranking model and rank with it.

    The weights come from the decisions (regularised toward the defaults); the calibration is then
    refitted with those weights on the shipped labels (`labels_dir`, the demo catalogue's) together
    with the decisions, approved counting as solving the need and rejected as not.
    """
    examples = decided_examples(session, matcher=matcher)
    if not examples:
        raise Conflict(
            "no curator decisions or engagement outcomes to learn from yet: approve or reject proposed matches, "
            "or follow engagements to adoption or decline"
        )
    vectors = matcher.catalogue.need_vectors([e.need_id for e in examples])
    model = feedback.fit(examples, base=RankingWeights(), parts=parts, vectors=vectors)
    weights = model.ranking_weights()
    decided = decision_evidence(
        [float(v) for e in examples for v in _weighted(e, weights)],
        [bool(a) for e in examples for a in e.approved],
    )
    shipped = _labelled(labels_dir, matcher=matcher, weights=weights)
    calibration = LabelledEvidence.join([p for p in (shipped, decided) if p is not None]).fit()
    model = dataclasses.replace(model, calibration=calibration)
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
    # Every process ranks with it once this commits (the change log); this one before it answers.
    record_change(session, kind=ChangeKind.ranking, apply_here=lambda: feedback.apply(matcher, model))
    logger.info(
        "learned a ranking from %d decisions on %d needs; calibration %s", model.decisions, model.needs, calibration
    )
    return row


def learn_job(session: Session, context: JobContext) -> dict[str, int]:
    """A queued learning (`Prefer: respond-async`): as `learn`, by the key that queued it."""
    context.report(0.1, "recomputing the decided matches' features on today's catalogue")
    row = learn(
        session,
        matcher=context.matcher,
        trained_by=context.created_by or "a job",
        labels_dir=context.settings.labels_dir,
        trained_by_tenant=context.tenant,
    )
    return {"ranking_model_id": row.id}


def _weighted(example: NeedExamples, weights: RankingWeights) -> np.ndarray:
    """The evidence of an example's decided pairs under `weights` (its feature columns, FEATURES' order)."""
    w = np.array([getattr(weights, name) for name in feedback.FUSION_FIELDS])
    return np.asarray(example.features[:, : len(w)] @ w, dtype=np.float64)


def _labelled(labels_dir: Path | None, *, matcher: Matcher, weights: RankingWeights) -> LabelledEvidence | None:
    """The shipped labels' evidence under `weights`, or None (with a warning) when they cannot be read."""
    if labels_dir is None:
        return None
    try:
        dataset = load_dataset(labels_dir)
    except DatasetError as exc:
        logger.warning("calibrating without the shipped labels in %s: %s", labels_dir, exc)
        return None
    if not dataset.qrels:
        return None
    return calibrate_on(dataset, matcher=Matcher(matcher.encoder, weights=weights))


_CALIBRATING = threading.Lock()
# Fitted calibrations by their key, for every app of this process (tests start many).
_FITTED: dict[str, Calibration] = {}
CALIBRATION_FILE = "calibration.json"


def _labels_digest(labels_dir: Path) -> str | None:
    """What the shipped labels say, as a digest of their files (None when there are none)."""
    digest = hashlib.sha256()
    files = [labels_dir / name for name in ("technologies.jsonl", "needs.jsonl", "qrels.tsv")]
    if not all(f.is_file() for f in files):
        return None
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def default_calibration(*, matcher: Matcher, labels_dir: Path | None, cache_dir: Path | None = None) -> Calibration:
    """The calibration of the default weights for the matcher's model.

    The shipped constants for the default model. Another model is fitted on the shipped labels, which
    takes seconds (it encodes the demo catalogue), and the fit is kept in `cache_dir` beside the index,
    so a restart encodes nothing; the shipped constants when there are no labels to fit on.
    """
    weights = RankingWeights()
    if matcher.encoder.name == GLOSSARY_MODEL or labels_dir is None:
        return DEFAULT_CALIBRATION
    digest = _labels_digest(labels_dir)
    if digest is None:
        logger.warning(
            "no labels in %s to calibrate %s on; the default model's calibration is used",
            labels_dir,
            matcher.encoder.name,
        )
        return DEFAULT_CALIBRATION
    key = {"model": matcher.encoder.name, "weights": dataclasses.asdict(weights), "labels": digest}
    path = cache_dir / CALIBRATION_FILE if cache_dir is not None else None
    memo = json.dumps(key, sort_keys=True)
    with _CALIBRATING:
        if memo in _FITTED:
            return _FITTED[memo]
        if path is not None and path.is_file():
            try:
                saved = json.loads(path.read_text("utf-8"))
                if saved.get("key") == key:
                    _FITTED[memo] = Calibration(**saved["calibration"])
                    return _FITTED[memo]
            except (ValueError, TypeError, KeyError) as exc:
                logger.info("refitting the calibration: %s is unreadable (%s)", path, exc)
        labelled = _labelled(labels_dir, matcher=matcher, weights=weights)
        calibration = DEFAULT_CALIBRATION if labelled is None else labelled.fit()
        _FITTED[memo] = calibration
        logger.info("calibrated %s on %s: %s", matcher.encoder.name, labels_dir, calibration)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, json.dumps({"key": key, "calibration": calibration.as_dict()}).encode("utf-8"))
        return calibration


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


def load_ranking(
    session: Session, *, matcher: Matcher, labels_dir: Path | None = None, cache_dir: Path | None = None
) -> FeedbackModel | None:
    """Rank with the newest stored model (start-up); the defaults when there is none or it is unreadable,
    calibrated for the matcher's model (see `default_calibration`)."""
    try:
        model = current_model(session)
    except (ValueError, KeyError, TypeError) as exc:
        # A model written by another format version: rank with the defaults until `learn` runs again.
        logger.warning("ignoring the stored ranking model: %s", exc)
        model = None
    calibration = None
    if model is None or model.calibration is None:
        calibration = default_calibration(matcher=matcher, labels_dir=labels_dir, cache_dir=cache_dir)
    feedback.apply(matcher, model, calibration=calibration)
    return model
