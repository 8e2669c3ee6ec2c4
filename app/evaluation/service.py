"""Ranking quality of the stored catalogue against a data set's relevance labels."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.catalogue.records import need_record
from app.catalogue.repository import NeedRepository, TechnologyRepository
from app.models import DEFAULT_TENANT
from matching.evaluation.datasets import Dataset
from matching.evaluation.metrics import evaluate
from matching.matcher import Matcher
from matching.ranking.features import Mode
from matching.retrieval.texts import need_text


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    metrics: dict[str, float]
    by_language: dict[str, dict[str, float]]

    def as_dict(self) -> dict[str, Any]:
        return {**self.metrics, "by_language": self.by_language}


def evaluate_dataset(
    session: Session,
    *,
    dataset: Dataset,
    matcher: Matcher,
    mode: Mode,
    k: int,
    batch_size: int = 64,
) -> EvaluationReport:
    """Runs each of the data set's needs (already loaded) through the matcher and scores the refs.

    Per-language metrics only for the benchmark format, whose needs carry a language.
    """
    refs_by_id = {row.id: row.ref for row in TechnologyRepository(session).all()}
    stored = NeedRepository(session).by_refs({need.ref for need in dataset.needs}, tenant=DEFAULT_TENANT)
    needs = {ref: need_record(row) for ref, row in stored.items()}
    # One batched encode of all queries: per-query encoding costs far more on CPU.
    vectors = matcher.encoder.encode([need_text(need) for need in needs.values()], kind="query", batch_size=batch_size)
    rankings: dict[str, list[str]] = {}
    for (ref, need), vector in zip(needs.items(), vectors, strict=True):
        results = matcher.match(need, k=k, explain=False, mode=mode, query_vector=vector)
        rankings[ref] = [ref_ for m in results if (ref_ := refs_by_id.get(m.technology_id))]
    metrics = evaluate(rankings, dataset.qrels, k=k)
    by_language: dict[str, dict[str, float]] = {}
    if dataset.format == "benchmark":
        groups: dict[str, list[str]] = defaultdict(list)
        for listed in dataset.needs:
            groups[listed.lang].append(listed.ref)
        for lang, refs in sorted(groups.items()):
            qrels = {ref: dataset.qrels[ref] for ref in refs if ref in dataset.qrels}
            by_language[lang] = evaluate(rankings, qrels, k=k)
    return EvaluationReport(metrics=metrics, by_language=by_language)
