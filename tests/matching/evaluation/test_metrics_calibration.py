"""Linear-gain nDCG beside the exponential one, calibration errors and the nothing-fits figures."""

from __future__ import annotations

import math

import pytest

from matching.evaluation.metrics import calibration_errors, evaluate, ndcg_at, nothing_fits, reliability


def test_linear_gain_is_reported_beside_the_exponential_one() -> None:
    labels = {"a": 3, "b": 1}
    ranking = ["b", "a"]
    exponential = ((2**1 - 1) / 1 + (2**3 - 1) / math.log2(3)) / ((2**3 - 1) / 1 + (2**1 - 1) / math.log2(3))
    linear = (1 / 1 + 3 / math.log2(3)) / (3 / 1 + 1 / math.log2(3))
    assert ndcg_at(ranking, labels, 10) == pytest.approx(exponential)
    assert ndcg_at(ranking, labels, 10, gain="linear") == pytest.approx(linear)
    metrics = evaluate({"q": ranking}, {"q": labels})
    assert metrics["ndcg@10"] == round(exponential, 4) and metrics["ndcg@10_linear"] == round(linear, 4)


def test_calibration_errors_of_known_cases() -> None:
    # Perfectly calibrated bins: a fifth of the pairs at 0.2 solve, four fifths at 0.8.
    p = [0.2] * 5 + [0.8] * 5
    y = [True, False, False, False, False, True, True, True, True, False]
    assert calibration_errors(p, y)["ece"] == pytest.approx(0.0, abs=1e-9)
    # Always 0.9, never right: the gap is 0.9 and the Brier score 0.81.
    errors = calibration_errors([0.9] * 4, [False] * 4)
    assert errors["ece"] == pytest.approx(0.9) and errors["brier"] == pytest.approx(0.81) and errors["pairs"] == 4
    bins = reliability(p, y)
    assert [(b["count"], b["observed"]) for b in bins] == [(5, 0.2), (5, 0.8)]


def test_nothing_fits_counts_right_and_wrong_answers() -> None:
    verdicts = {"off1": "none", "off2": "weak", "n1": "good", "n2": "none", "n3": "none"}
    qrels = {"n1": {"t": 3}, "n2": {"t": 3}, "n3": {"t": 1}}
    figures = nothing_fits(verdicts, offtopic={"off1", "off2"}, qrels=qrels)
    # n3 has no grade-3 offering, so saying "nothing fits" there is not counted as wrong.
    assert figures == {"nothing_fits_recall": 0.5, "false_nothing_fits": 0.5, "offtopic_needs": 2}
