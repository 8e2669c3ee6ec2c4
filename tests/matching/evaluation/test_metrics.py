import math

import pytest

from matching.evaluation.metrics import evaluate, mrr_at, ndcg_at, recall_at

LABELS = {"a": 3, "b": 1}


def test_perfect_ranking_scores_one():
    assert ndcg_at(["a", "b", "x"], LABELS, 10) == pytest.approx(1.0)


def test_ndcg_uses_exponential_gain_and_log_discount():
    # ideal: a(7) then b(1); ranking: x, a, b
    ideal = 7 + 1 / math.log2(3)
    got = 7 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at(["x", "a", "b"], LABELS, 10) == pytest.approx(got / ideal)


def test_recall_and_mrr():
    assert recall_at(["x", "b"], LABELS, 10) == 0.5
    assert mrr_at(["x", "y", "b"], LABELS, 10) == pytest.approx(1 / 3)
    assert mrr_at(["x"], LABELS, 10) == 0.0


def test_evaluate_averages_and_counts_unranked_queries_as_zero():
    result = evaluate({"q1": ["a", "b"]}, {"q1": LABELS, "q2": {"c": 2}})
    assert result["queries"] == 2
    assert result["ndcg@10"] == pytest.approx(0.5)
    assert result["recall@10"] == pytest.approx(0.5)
