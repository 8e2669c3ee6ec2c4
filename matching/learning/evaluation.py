"""Measures learning from decisions: qrels of half the needs act as curator decisions, nDCG on the other half."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import mean
from typing import Any

import numpy as np

from matching.evaluation.datasets import Dataset, EngineRecords, engine_records
from matching.evaluation.metrics import evaluate
from matching.learning.feedback import (
    DEFAULT_PARTS,
    PRIOR_STRENGTH,
    REGULARISATION,
    FeedbackModel,
    NeedExamples,
    apply,
    fit,
    need_examples,
)
from matching.matcher import Matcher
from matching.ranking.fusion import RankingWeights
from matching.retrieval.texts import need_text, technology_text
from matching.types import Need

VARIANTS: dict[str, tuple[str, ...]] = {
    "weights": ("weights",),
    "priors": ("priors",),
    "neighbours": ("neighbours",),
    "weights+neighbours": ("weights", "neighbours"),
    "weights+priors+neighbours": ("weights", "priors", "neighbours"),
}


@dataclass(frozen=True, slots=True)
class LoadedDataset:
    matcher: Matcher
    records: EngineRecords
    query_vectors: dict[int, np.ndarray]
    qrels: Mapping[str, Mapping[str, int]]


def load_into(matcher: Matcher, dataset: Dataset, *, batch_size: int = 64) -> LoadedDataset:
    """The data set's technologies and needs in `matcher`, and every need's query vector."""
    records = engine_records(dataset)
    texts = [need_text(n) for n in records.needs]
    need_vectors = matcher.encoder.encode(texts, kind="passage", batch_size=batch_size)
    matcher.catalogue.build(
        technologies=records.technologies,
        technology_vectors=matcher.encoder.encode(
            [technology_text(t) for t in records.technologies], kind="passage", batch_size=batch_size
        ),
        needs=records.needs,
        need_vectors=need_vectors,
    )
    queries = (
        need_vectors
        if matcher.encoder.symmetric
        else matcher.encoder.encode(texts, kind="query", batch_size=batch_size)
    )
    return LoadedDataset(
        matcher=matcher,
        records=records,
        query_vectors={n.id: v for n, v in zip(records.needs, queries, strict=True)},
        qrels=dataset.qrels,
    )


def split_needs(needs: Sequence[Need], *, seed: int) -> tuple[list[Need], list[Need]]:
    """Two halves, shuffled by `seed` within each language so both halves hold every language."""
    by_language: dict[str, list[Need]] = defaultdict(list)
    for need in sorted(needs, key=lambda n: n.id):
        by_language[need.lang].append(need)
    rng = random.Random(seed)
    train, test = [], []
    for lang in sorted(by_language):
        group = by_language[lang]
        rng.shuffle(group)
        # Alternate which half gets the odd one out, so neither half is always the bigger.
        cut = (len(group) + rng.randint(0, 1)) // 2
        train += group[:cut]
        test += group[cut:]
    return train, test


def _rankings(loaded: LoadedDataset, needs: Sequence[Need], *, k: int) -> dict[str, list[str]]:
    refs = loaded.records
    out = {}
    for need in needs:
        matches = loaded.matcher.match(need, k=k, explain=False, query_vector=loaded.query_vectors[need.id])
        out[refs.need_refs[need.id]] = [refs.technology_refs[m.technology_id] for m in matches]
    return out


def _metrics(
    loaded: LoadedDataset, rankings: Mapping[str, Sequence[str]], needs: Sequence[Need], *, k: int
) -> dict[str, Any]:
    refs = loaded.records.need_refs
    everyone = {refs[n.id]: loaded.qrels.get(refs[n.id], {}) for n in needs}
    result: dict[str, Any] = {"all": evaluate(rankings, everyone, k=k)}
    for lang in sorted({n.lang for n in needs}):
        subset = {refs[n.id]: loaded.qrels.get(refs[n.id], {}) for n in needs if n.lang == lang}
        result[lang] = evaluate(rankings, subset, k=k)
    return result


def decided_examples(
    loaded: LoadedDataset, needs: Sequence[Need], *, propose_k: int, min_relevance: int
) -> list[NeedExamples]:
    """Each training need's top proposals, approved when labelled at least `min_relevance`."""
    refs = loaded.records
    examples = []
    for need in needs:
        vector = loaded.query_vectors[need.id]
        proposed = loaded.matcher.match(need, k=propose_k, explain=False, query_vector=vector)
        labels = loaded.qrels.get(refs.need_refs[need.id], {})
        decisions = {
            m.technology_id: labels.get(refs.technology_refs[m.technology_id], 0) >= min_relevance for m in proposed
        }
        candidates = loaded.matcher.match_features(need, query_vector=vector)
        if candidates is None:
            continue
        example = need_examples(
            need_id=need.id, candidates=candidates, decisions=decisions, weights=loaded.matcher.weights
        )
        if example is not None:
            examples.append(example)
    return examples


def _model_summary(model: FeedbackModel, loaded: LoadedDataset) -> dict[str, Any]:
    refs = loaded.records.technology_refs
    priors = sorted(model.priors.items(), key=lambda item: item[1])
    return {
        "weights": model.weights,
        "prior_weight": model.prior_weight,
        "neighbour_weight": model.neighbour_weight,
        "decisions": model.decisions,
        "approved": model.approved,
        "lowest_priors": {refs[t]: round(p, 3) for t, p in priors[:3]},
        "highest_priors": {refs[t]: round(p, 3) for t, p in priors[::-1][:3]},
    }


def evaluate_feedback(
    loaded: LoadedDataset,
    *,
    seed: int = 0,
    splits: int = 5,
    propose_k: int = 10,
    min_relevance: int = 1,
    k: int = 10,
    base: RankingWeights | None = None,
    regularisation: float = REGULARISATION,
    prior_strength: float = PRIOR_STRENGTH,
) -> dict[str, Any]:
    """nDCG@k of held-out needs before and after learning, per split, with mean and min over splits."""
    base = base or RankingWeights()
    metric = f"ndcg@{k}"
    rows = []
    for split in range(splits):
        apply(loaded.matcher, None, base=base)
        train, test = split_needs(loaded.records.needs, seed=seed + split)
        before = _metrics(loaded, _rankings(loaded, test, k=k), test, k=k)
        examples = decided_examples(loaded, train, propose_k=propose_k, min_relevance=min_relevance)
        row: dict[str, Any] = {
            "seed": seed + split,
            "train_needs": sorted(loaded.records.need_refs[n.id] for n in train),
            "test_needs": sorted(loaded.records.need_refs[n.id] for n in test),
            "decisions": sum(len(e.technology_ids) for e in examples),
            "approved": int(sum(e.approved.sum() for e in examples)),
            "before": before,
            "after": {},
            "models": {},
        }
        vectors = loaded.matcher.catalogue.need_vectors([e.need_id for e in examples])
        for variant, parts in VARIANTS.items():
            model = fit(
                examples,
                base=base,
                parts=parts,
                vectors=vectors,
                regularisation=regularisation,
                prior_strength=prior_strength,
            )
            apply(loaded.matcher, model, base=base)
            row["after"][variant] = _metrics(loaded, _rankings(loaded, test, k=k), test, k=k)
            row["models"][variant] = _model_summary(model, loaded)
        apply(loaded.matcher, None, base=base)
        rows.append(row)
    summary: dict[str, Any] = {}
    groups = sorted({g for r in rows for g in r["before"]}, key=lambda g: (g != "all", g))
    for variant in VARIANTS:
        per_group = {}
        for group in groups:
            scores_before = [r["before"][group][metric] for r in rows if group in r["before"]]
            scores_after = [r["after"][variant][group][metric] for r in rows if group in r["after"][variant]]
            gains = [a - b for a, b in zip(scores_after, scores_before, strict=True)]
            per_group[group] = {
                "before": round(mean(scores_before), 4),
                "after": round(mean(scores_after), 4),
                "gain_mean": round(mean(gains), 4),
                "gain_min": round(min(gains), 4),
                "gain_max": round(max(gains), 4),
            }
        summary[variant] = per_group
    return {
        "metric": metric,
        "seed": seed,
        "splits": splits,
        "propose_k": propose_k,
        "min_relevance": min_relevance,
        # The variant `techmatch learn` fits.
        "default": "+".join(DEFAULT_PARTS),
        "regularisation": regularisation,
        "prior_strength": prior_strength,
        "summary": summary,
        "per_split": rows,
    }
