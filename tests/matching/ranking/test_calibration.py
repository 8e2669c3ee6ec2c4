"""Calibration: evidence to a probability that means the same for every need, with honest words and verdicts."""

from __future__ import annotations

import numpy as np
import pytest

from matching.encoders.hashing import HashingEncoder
from matching.matcher import Matcher
from matching.ranking.bands import GOOD, NOTHING_FITS_THRESHOLD, STRONG, fit_of, strength
from matching.ranking.calibration import CEILING, DEFAULT_CALIBRATION, Calibration, fit_calibration
from matching.types import Need, Technology
from tests.matching.conftest import BEARING_NEED, TECHNOLOGIES, build_matcher


def test_logistic_fit_recovers_the_calibration_that_made_the_labels() -> None:
    rng = np.random.default_rng(7)
    truth = Calibration(scale=6.0, intercept=-4.0)
    evidence = rng.uniform(0.0, 1.4, 20_000)
    solves = rng.random(len(evidence)) < truth.probability(evidence)
    fitted = fit_calibration(evidence, solves)
    assert fitted.scale == pytest.approx(truth.scale, rel=0.08)
    assert fitted.intercept == pytest.approx(truth.intercept, rel=0.08)


def test_a_fit_needs_both_outcomes() -> None:
    with pytest.raises(ValueError, match="pairs that solve and pairs that do not"):
        fit_calibration([0.1, 0.5], [True, True])
    with pytest.raises(ValueError, match="same length"):
        fit_calibration([0.1, 0.5], [True])


def test_probability_rises_with_evidence() -> None:
    values = DEFAULT_CALIBRATION.probability(np.array([-5.0, 0.0, 1.0, 2.0]))
    assert np.all(np.diff(values) > 0) and values[0] > 0.0


def test_a_score_never_reaches_one() -> None:
    """A one-word need an offering repeats piles up evidence; its score stops at the ceiling, and the
    contributions still add up (a "ceiling" part takes off what is above it)."""
    matcher = build_matcher(HashingEncoder())
    certain = Calibration(scale=40.0, intercept=0.0)  # every pair far above the ceiling
    matcher.calibration = certain
    top = matcher.match(Need(id=0, title="", description="bearing vibration"), k=3, explain=False)
    for match in top:
        assert match.score == pytest.approx(CEILING, abs=1e-4)
        parts = match.components.contributions
        assert parts["ceiling"] < 0
        assert sum(parts.values()) == pytest.approx(match.components.log_odds, abs=1e-3)


def test_strength_words_and_list_verdicts_follow_the_bands() -> None:
    assert strength(STRONG) == "strong" and strength(GOOD) == "good"
    assert strength(NOTHING_FITS_THRESHOLD) == "possible" and strength(NOTHING_FITS_THRESHOLD - 0.01) == "weak"
    assert strength(0.3, threshold=0.35) == "weak"
    assert fit_of([]) == "none"
    assert fit_of([0.05, NOTHING_FITS_THRESHOLD - 0.001]) == "none"
    assert fit_of([0.05, NOTHING_FITS_THRESHOLD]) == "weak"
    assert fit_of([0.1, GOOD]) == "good"
    assert fit_of([0.3], threshold=0.5) == "none"


def test_a_pairs_score_does_not_depend_on_the_other_offerings() -> None:
    """The bakery case: adding a better offering must not move another offering's score for the same need.

    Every part of the evidence belongs to the pair alone; only BM25's corpus statistics (idf) see the
    new document, which in a catalogue of five moves the lexical part a little and nothing else."""
    matcher = build_matcher(HashingEncoder())
    k = len(TECHNOLOGIES)
    before = {m.technology_id: m.components.contributions for m in matcher.match(BEARING_NEED, k=k, explain=False)}
    rival = Technology(
        id=99,
        title="Bearing failure early warning",
        description="Sensors on bearings of motors and pumps warn weeks before they fail and stop the line.",
        categories=("predictive-maintenance",),
    )
    matcher.catalogue.upsert_technologies([rival], matcher.encode_technologies([rival]))
    after = {m.technology_id: m.components.contributions for m in matcher.match(BEARING_NEED, k=k + 1, explain=False)}
    assert 99 in after and set(before) <= set(after)
    for technology_id, parts in before.items():
        for name in ("intercept", "dense", "sentence", "taxonomy", "sector", "constraints", "learned"):
            assert after[technology_id][name] == parts[name], (technology_id, name)


def test_contributions_add_up_to_the_score(hashing_matcher: Matcher) -> None:
    for match in hashing_matcher.match(BEARING_NEED, k=5):
        parts = match.components.contributions
        assert set(parts) == {
            "intercept",
            "dense",
            "sentence",
            "lexical",
            "taxonomy",
            "sector",
            "constraints",
            "learned",
        }
        assert sum(parts.values()) == pytest.approx(match.components.log_odds, abs=1e-3)
        assert match.score == pytest.approx(1 / (1 + np.exp(-match.components.log_odds)), abs=1e-4)
        assert parts["intercept"] == pytest.approx(hashing_matcher.calibration.intercept, abs=1e-4)


def test_an_unrelated_need_gets_low_probabilities_everywhere(hashing_matcher: Matcher) -> None:
    unrelated = Need(id=0, title="", description="Who will cater the staff summer party in the park?")
    best = max(m.score for m in hashing_matcher.match(unrelated, k=5, explain=False))
    related = max(m.score for m in hashing_matcher.match(BEARING_NEED, k=5, explain=False))
    assert best < related
