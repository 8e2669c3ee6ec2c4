"""Quality metrics: ranking (nDCG, recall and MRR at k), calibration (ECE, Brier) and "nothing fits"."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import Literal

import numpy as np

Gain = Literal["exponential", "linear"]
# A pair "solves" the need when graded 2 or 3 (the benchmark format): what a score's probability is about.
SOLVES = 2


def dcg(gains: Sequence[float], *, gain: Gain = "exponential") -> float:
    if gain == "linear":
        return sum(g / math.log2(position + 2) for position, g in enumerate(gains))
    return sum((2**g - 1) / math.log2(position + 2) for position, g in enumerate(gains))


def ndcg_at(ranking: Sequence[str], labels: Mapping[str, int], k: int, *, gain: Gain = "exponential") -> float:
    """Graded nDCG@k. Exponential gain (2^rel - 1) is what this project has always reported; linear gain
    (rel), as trec_eval and BEIR compute it, is reported beside it as `ndcg@k_linear`."""
    ideal = dcg(sorted(labels.values(), reverse=True)[:k], gain=gain)
    if ideal == 0:
        return 0.0
    return dcg([labels.get(doc, 0) for doc in ranking[:k]], gain=gain) / ideal


def recall_at(ranking: Sequence[str], labels: Mapping[str, int], k: int, *, min_relevance: int = 1) -> float:
    relevant = {doc for doc, rel in labels.items() if rel >= min_relevance}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranking[:k])) / len(relevant)


def mrr_at(ranking: Sequence[str], labels: Mapping[str, int], k: int, *, min_relevance: int = 1) -> float:
    for position, doc in enumerate(ranking[:k], start=1):
        if labels.get(doc, 0) >= min_relevance:
            return 1.0 / position
    return 0.0


def evaluate(
    rankings: Mapping[str, Sequence[str]],
    qrels: Mapping[str, Mapping[str, int]],
    *,
    k: int = 10,
) -> dict[str, float]:
    """Mean metrics over the queries that have labels; a labelled query with no ranking scores 0."""
    names = (f"ndcg@{k}", f"ndcg@{k}_linear", f"recall@{k}", f"mrr@{k}")
    queries = [q for q, labels in qrels.items() if any(r > 0 for r in labels.values())]
    if not queries:
        return {**dict.fromkeys(names, 0.0), "queries": 0}
    totals = dict.fromkeys(names, 0.0)
    for query in queries:
        ranking, labels = rankings.get(query, ()), qrels[query]
        totals[names[0]] += ndcg_at(ranking, labels, k)
        totals[names[1]] += ndcg_at(ranking, labels, k, gain="linear")
        totals[names[2]] += recall_at(ranking, labels, k)
        totals[names[3]] += mrr_at(ranking, labels, k)
    n = len(queries)
    return {**{name: round(total / n, 4) for name, total in totals.items()}, "queries": n}


Values = Sequence[float] | np.ndarray


def reliability(
    probabilities: Values, outcomes: Sequence[bool] | np.ndarray, *, bins: int = 10
) -> list[dict[str, float]]:
    """Equal-width probability bins: each one's count, mean probability and observed share of outcomes."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(outcomes, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(p, edges[1:-1], right=False), 0, bins - 1)
    out = []
    for b in range(bins):
        mask = index == b
        if mask.any():
            out.append(
                {
                    "low": float(edges[b]),
                    "high": float(edges[b + 1]),
                    "count": int(mask.sum()),
                    "mean_probability": float(p[mask].mean()),
                    "observed": float(y[mask].mean()),
                }
            )
    return out


def calibration_errors(
    probabilities: Values, outcomes: Sequence[bool] | np.ndarray, *, bins: int = 10
) -> dict[str, float]:
    """Expected calibration error (the count-weighted gap between mean probability and observed share
    over equal-width bins) and the Brier score (mean squared error of the probabilities)."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(outcomes, dtype=np.float64)
    if not len(p):
        return {"ece": 0.0, "brier": 0.0, "pairs": 0}
    ece = sum(b["count"] * abs(b["mean_probability"] - b["observed"]) for b in reliability(p, y > 0.5, bins=bins))
    return {"ece": round(ece / len(p), 4), "brier": round(float(np.mean((p - y) ** 2)), 4), "pairs": len(p)}


def nothing_fits(
    verdicts: Mapping[str, str],
    *,
    offtopic: Collection[str],
    qrels: Mapping[str, Mapping[str, int]],
) -> dict[str, float]:
    """Over the off-topic needs, the share answered "none" (higher is better); over the needs with a
    grade-3 offering, the share wrongly answered "none" (lower is better)."""
    off = [n for n in offtopic if n in verdicts]
    solvable = [n for n, labels in qrels.items() if 3 in labels.values() and n in verdicts]
    return {
        "nothing_fits_recall": round(sum(verdicts[n] == "none" for n in off) / len(off), 4) if off else 0.0,
        "false_nothing_fits": round(sum(verdicts[n] == "none" for n in solvable) / len(solvable), 4)
        if solvable
        else 0.0,
        "offtopic_needs": len(off),
    }
