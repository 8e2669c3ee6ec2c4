"""Ranking quality metrics over graded relevance labels: nDCG, recall and MRR at k."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def dcg(gains: Sequence[float]) -> float:
    return sum((2**g - 1) / math.log2(position + 2) for position, g in enumerate(gains))


def ndcg_at(ranking: Sequence[str], labels: Mapping[str, int], k: int) -> float:
    """Graded nDCG@k with exponential gain (2^rel - 1), as trec_eval and BEIR compute it."""
    ideal = dcg(sorted(labels.values(), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([labels.get(doc, 0) for doc in ranking[:k]]) / ideal


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
    queries = [q for q, labels in qrels.items() if any(r > 0 for r in labels.values())]
    if not queries:
        return {f"ndcg@{k}": 0.0, f"recall@{k}": 0.0, f"mrr@{k}": 0.0, "queries": 0}
    totals = {"ndcg": 0.0, "recall": 0.0, "mrr": 0.0}
    for query in queries:
        ranking, labels = rankings.get(query, ()), qrels[query]
        totals["ndcg"] += ndcg_at(ranking, labels, k)
        totals["recall"] += recall_at(ranking, labels, k)
        totals["mrr"] += mrr_at(ranking, labels, k)
    n = len(queries)
    return {
        f"ndcg@{k}": round(totals["ndcg"] / n, 4),
        f"recall@{k}": round(totals["recall"] / n, 4),
        f"mrr@{k}": round(totals["mrr"] / n, 4),
        "queries": n,
    }
