"""Quality of the stored catalogue against a data set's labels: ranking, calibration and "nothing fits"."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from app.catalogue.records import need_record
from app.catalogue.repository import NeedRepository, TechnologyRepository
from app.models import DEFAULT_TENANT
from matching.evaluation.datasets import Dataset
from matching.evaluation.metrics import SOLVES, calibration_errors, evaluate, nothing_fits
from matching.matcher import Matcher
from matching.ranking.bands import NOTHING_FITS_THRESHOLD, fit_of
from matching.ranking.features import Mode
from matching.retrieval.texts import need_text

# A need of at most this many words (title and description) is "short": what a busy person types into a form.
SHORT_WORDS = 25


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    metrics: dict[str, float]
    by_language: dict[str, dict[str, float]]
    # Ranking metrics of short needs (at most SHORT_WORDS words, title and description) and longer ones.
    by_length: dict[str, dict[str, float]] = field(default_factory=dict)
    # Calibration and nothing-fits figures (hybrid ranking of a benchmark-format data set).
    scores: dict[str, float] = field(default_factory=dict)
    # Each need's top-k probabilities and whether each pair solves the need: the reliability diagram's data.
    probabilities: list[float] = field(default_factory=list)
    outcomes: list[bool] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {**self.metrics, **self.scores, "by_language": self.by_language, "by_length": self.by_length}


def evaluate_dataset(
    session: Session,
    *,
    dataset: Dataset,
    matcher: Matcher,
    mode: Mode,
    k: int,
    batch_size: int = 64,
    threshold: float = NOTHING_FITS_THRESHOLD,
) -> EvaluationReport:
    """Runs each of the data set's needs (already loaded) through the matcher and scores the refs.

    Per-language metrics only for the benchmark format, whose needs carry a language. For that format
    and the hybrid ranking, also how well the scores are calibrated over every need's top k (a pair
    solves the need when graded 2 or 3; unlabelled pairs count as not solving), and how often "nothing
    fits" is said rightly (off-topic needs) and wrongly (needs with a grade-3 offering).
    """
    refs_by_id = {row.id: row.ref for row in TechnologyRepository(session).all()}
    stored = NeedRepository(session).by_refs({need.ref for need in dataset.needs}, tenant=DEFAULT_TENANT)
    needs = {ref: need_record(row) for ref, row in stored.items()}
    # One batched encode of all queries: per-query encoding costs far more on CPU.
    vectors = matcher.encoder.encode([need_text(need) for need in needs.values()], kind="query", batch_size=batch_size)
    rankings: dict[str, list[str]] = {}
    verdicts: dict[str, str] = {}
    probabilities: list[float] = []
    outcomes: list[bool] = []
    for (ref, need), vector in zip(needs.items(), vectors, strict=True):
        results = matcher.match(need, k=k, explain=False, mode=mode, query_vector=vector)
        rankings[ref] = [ref_ for m in results if (ref_ := refs_by_id.get(m.technology_id))]
        labels = dataset.qrels.get(ref, {})
        verdicts[ref] = fit_of([m.score for m in results], threshold=threshold)
        for m in results:
            probabilities.append(m.score)
            outcomes.append(labels.get(refs_by_id.get(m.technology_id) or "", 0) >= SOLVES)
    metrics = evaluate(rankings, dataset.qrels, k=k)
    by_language: dict[str, dict[str, float]] = {}
    by_length: dict[str, dict[str, float]] = {}
    scores: dict[str, float] = {}
    if dataset.format == "benchmark":
        groups: dict[str, list[str]] = defaultdict(list)
        for listed in dataset.needs:
            groups[listed.lang].append(listed.ref)
        for lang, refs in sorted(groups.items()):
            qrels = {ref: dataset.qrels[ref] for ref in refs if ref in dataset.qrels}
            by_language[lang] = evaluate(rankings, qrels, k=k)
        lengths = {need.ref: len(f"{need.title} {need.description}".split()) for need in dataset.needs}
        for label, short in ((f"short (<= {SHORT_WORDS} words)", True), (f"long (> {SHORT_WORDS} words)", False)):
            qrels = {
                ref: labels for ref, labels in dataset.qrels.items() if (lengths.get(ref, 0) <= SHORT_WORDS) == short
            }
            if qrels:
                by_length[label] = evaluate(rankings, qrels, k=k)
        if mode == "hybrid":
            errors = calibration_errors(probabilities, outcomes)
            scores = {"ece": errors["ece"], "brier": errors["brier"], "calibration_pairs": errors["pairs"]}
            scores |= nothing_fits(verdicts, offtopic=dataset.offtopic, qrels=dataset.qrels)
            scores["threshold"] = threshold
    if not scores:
        probabilities, outcomes = [], []
    return EvaluationReport(
        metrics=metrics,
        by_language=by_language,
        by_length=by_length,
        scores=scores,
        probabilities=probabilities,
        outcomes=outcomes,
    )
