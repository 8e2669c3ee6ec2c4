"""Measures learning from decisions: qrels of half the needs act as decisions, nDCG on the other half.

Curator decisions are simulated from the labels (a proposal labelled at least `min_relevance` is
approved); with `outcome_share` a share of the approved proposals is also followed to an outcome, as
engagements are: adopted when the label says the offering solves the need (grade 2 or 3, as the
scores are calibrated), declined otherwise. The outcome overrides the curator's verdict and weighs
`outcome_weight`. Variants then separate what outcomes add from what curators' decisions do.
"""

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
    CURATOR_WEIGHT,
    DEFAULT_PARTS,
    OUTCOME_WEIGHT,
    PRIOR_STRENGTH,
    REGULARISATION,
    FeedbackModel,
    NeedExamples,
    apply,
    fit,
    need_examples,
)
from matching.matcher import Matcher
from matching.ranking.features import CandidateFeatures
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


# An outcome is an adoption when the label says the offering solves the need's core problem.
SOLVES = 2
# The signals compared when outcomes are simulated: (outcome weight, whether curator decisions count).
SIGNALS: dict[str, tuple[float | None, bool]] = {
    "curator decisions": (None, True),
    "decisions + outcomes, weighted": (OUTCOME_WEIGHT, True),
    "decisions + outcomes, unweighted": (CURATOR_WEIGHT, True),
    "outcomes only": (OUTCOME_WEIGHT, False),
}


@dataclass(frozen=True, slots=True)
class _Proposals:
    """A training need's proposals (technology id -> label) and its candidate features."""

    need: Need
    labels: dict[int, int]
    candidates: CandidateFeatures


def _proposals(loaded: LoadedDataset, needs: Sequence[Need], *, propose_k: int) -> list[_Proposals]:
    refs = loaded.records
    out = []
    for need in needs:
        vector = loaded.query_vectors[need.id]
        proposed = loaded.matcher.match(need, k=propose_k, explain=False, query_vector=vector)
        labels = loaded.qrels.get(refs.need_refs[need.id], {})
        candidates = loaded.matcher.match_features(need, query_vector=vector)
        if candidates is None:
            continue
        out.append(
            _Proposals(
                need=need,
                labels={m.technology_id: labels.get(refs.technology_refs[m.technology_id], 0) for m in proposed},
                candidates=candidates,
            )
        )
    return out


def _followed(proposals: _Proposals, *, min_relevance: int, share: float, seed: int) -> set[int]:
    """The approved proposals that an engagement follows to an outcome: each with probability `share`."""
    rng = random.Random(f"{seed}:{proposals.need.id}")
    approved = [t for t, label in sorted(proposals.labels.items()) if label >= min_relevance]
    return {t for t in approved if rng.random() < share}


def _examples(
    loaded: LoadedDataset,
    proposals: Sequence[_Proposals],
    *,
    min_relevance: int,
    outcome_share: float = 0.0,
    outcome_weight: float | None = None,
    curators: bool = True,
    seed: int = 0,
) -> list[NeedExamples]:
    """Decided examples: curators approve proposals labelled at least `min_relevance`; with `outcome_weight`,
    the followed ones end adopted (label >= SOLVES) or declined, weighing `outcome_weight`."""
    examples = []
    for item in proposals:
        decisions = {t: label >= min_relevance for t, label in item.labels.items()}
        weights: dict[int, float] = {}
        if outcome_weight is not None:
            followed = _followed(item, min_relevance=min_relevance, share=outcome_share, seed=seed)
            if not curators:
                decisions = {t: a for t, a in decisions.items() if t in followed}
            for technology_id in followed:
                decisions[technology_id] = item.labels[technology_id] >= SOLVES
                weights[technology_id] = outcome_weight
        example = need_examples(
            need_id=item.need.id,
            candidates=item.candidates,
            decisions=decisions,
            weights=loaded.matcher.weights,
            decision_weights=weights,
        )
        if example is not None:
            examples.append(example)
    return examples


def decided_examples(
    loaded: LoadedDataset, needs: Sequence[Need], *, propose_k: int, min_relevance: int
) -> list[NeedExamples]:
    """Each training need's top proposals, approved when labelled at least `min_relevance`."""
    return _examples(loaded, _proposals(loaded, needs, propose_k=propose_k), min_relevance=min_relevance)


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
    outcome_share: float = 0.0,
) -> dict[str, Any]:
    """nDCG@k of held-out needs before and after learning, per split, with mean and min over splits.

    With `outcome_share` above 0, the default learner is also fitted on each signal of SIGNALS, and
    the report's `signals` compares them (the effect of outcomes apart from curators' decisions).
    """
    base = base or RankingWeights()
    metric = f"ndcg@{k}"
    rows = []
    for split in range(splits):
        apply(loaded.matcher, None, base=base)
        train, test = split_needs(loaded.records.needs, seed=seed + split)
        before = _metrics(loaded, _rankings(loaded, test, k=k), test, k=k)
        proposals = _proposals(loaded, train, propose_k=propose_k)
        examples = _examples(loaded, proposals, min_relevance=min_relevance)
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
        if outcome_share > 0:
            row["signals"], row["signal_models"] = {}, {}
            for signal, (weight, curators) in SIGNALS.items():
                decided = _examples(
                    loaded,
                    proposals,
                    min_relevance=min_relevance,
                    outcome_share=outcome_share,
                    outcome_weight=weight,
                    curators=curators,
                    seed=seed + split,
                )
                model = fit(
                    decided,
                    base=base,
                    parts=DEFAULT_PARTS,
                    vectors=loaded.matcher.catalogue.need_vectors([e.need_id for e in decided]),
                    regularisation=regularisation,
                    prior_strength=prior_strength,
                )
                apply(loaded.matcher, model, base=base)
                row["signals"][signal] = _metrics(loaded, _rankings(loaded, test, k=k), test, k=k)
                row["signal_models"][signal] = _model_summary(model, loaded)
            followed = [
                (item, _followed(item, min_relevance=min_relevance, share=outcome_share, seed=seed + split))
                for item in proposals
            ]
            row["outcomes"] = {
                "followed": sum(len(f) for _, f in followed),
                "adopted": sum(item.labels[t] >= SOLVES for item, f in followed for t in f),
            }
        apply(loaded.matcher, None, base=base)
        rows.append(row)
    groups = sorted({g for r in rows for g in r["before"]}, key=lambda g: (g != "all", g))
    summary = {variant: _summarise(rows, groups, metric, lambda r, v=variant: r["after"][v]) for variant in VARIANTS}
    signals = (
        {signal: _summarise(rows, groups, metric, lambda r, s=signal: r["signals"][s]) for signal in SIGNALS}
        if outcome_share > 0
        else {}
    )
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
        "outcome_share": outcome_share,
        "outcome_weight": OUTCOME_WEIGHT,
        "signals": signals,
        "per_split": rows,
    }


def _summarise(
    rows: Sequence[Mapping[str, Any]], groups: Sequence[str], metric: str, after: Any
) -> dict[str, dict[str, float]]:
    """Per group: the metric before and after (`after(row)` picks a split's scores), the gain's mean and range."""
    per_group = {}
    for group in groups:
        scores_before = [r["before"][group][metric] for r in rows if group in r["before"]]
        scores_after = [after(r)[group][metric] for r in rows if group in after(r)]
        gains = [a - b for a, b in zip(scores_after, scores_before, strict=True)]
        per_group[group] = {
            "before": round(mean(scores_before), 4),
            "after": round(mean(scores_after), 4),
            "gain_mean": round(mean(gains), 4),
            "gain_min": round(min(gains), 4),
            "gain_max": round(max(gains), 4),
        }
    return per_group
