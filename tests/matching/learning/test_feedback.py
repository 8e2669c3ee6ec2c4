"""Learning from decisions: the fit, priors, the artefact, applying it, and the held-out measurement."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from matching.encoders.hashing import HashingEncoder
from matching.evaluation.datasets import load_dataset
from matching.learning.evaluation import SIGNALS, VARIANTS, evaluate_feedback, load_into, split_needs
from matching.learning.feedback import (
    FUSION_FIELDS,
    FeedbackModel,
    NeedExamples,
    NeighbourVotes,
    apply,
    base_vector,
    fit,
    need_examples,
    technology_priors,
)
from matching.matcher import Matcher
from matching.ranking.fusion import RankingWeights
from matching.types import Need
from tests.matching.conftest import BEARING_NEED

DEFAULT = RankingWeights()


def _examples(needs: int, *, seed: int = 1) -> list[NeedExamples]:
    """Decisions that disagree with the defaults: approved offers win on taxonomy, lose on dense."""
    rng = np.random.default_rng(seed)
    out = []
    for need_id in range(1, needs + 1):
        approved = np.array([True, True, False, False, False, False])
        features = np.column_stack(
            [
                np.where(approved, 0.3, 0.8) + rng.normal(0, 0.05, 6),  # dense
                np.where(approved, 0.35, 0.85) + rng.normal(0, 0.05, 6),  # sentence, like dense
                rng.uniform(0, 1, 6),  # lexical: noise
                np.where(approved, 1.0, 0.1),  # taxonomy
                np.zeros(6),  # sector
                np.zeros(6),  # constraints
            ]
        )
        out.append(
            NeedExamples(need_id=need_id, technology_ids=tuple(range(1, 7)), features=features, approved=approved)
        )
    return out


def _distance_from_defaults(model: FeedbackModel) -> float:
    learned = model.ranking_weights()
    return float(np.abs(base_vector(learned)[:6] - base_vector(DEFAULT)[:6]).sum())


def test_without_decisions_the_model_is_the_defaults() -> None:
    model = fit([])
    assert model.ranking_weights() == DEFAULT
    assert (model.decisions, model.prior_weight, model.priors) == (0, 0.0, {})


def test_decisions_that_disagree_with_the_defaults_move_the_weights_their_way() -> None:
    model = fit(_examples(60), parts=("weights",))
    learned, default = base_vector(model.ranking_weights()), base_vector(DEFAULT)
    assert learned[3] > default[3] * 1.5  # taxonomy up
    assert learned[0] < default[0]  # dense down
    assert all(value >= 0 for value in model.weights.values())
    assert (model.decisions, model.approved, model.needs) == (360, 120, 60)


def test_little_data_changes_little() -> None:
    few, many = fit(_examples(2), parts=("weights",)), fit(_examples(200), parts=("weights",))
    assert 0 < _distance_from_defaults(few) < _distance_from_defaults(many)


def test_parts_choose_what_is_learned() -> None:
    only_priors = fit(_examples(30), parts=("priors",))
    assert only_priors.ranking_weights() == DEFAULT
    assert only_priors.parts == ("priors",)
    with pytest.raises(ValueError, match="unknown parts"):
        fit(_examples(3), parts=("magic",))


def test_priors_shrink_toward_zero_and_grow_with_evidence() -> None:
    priors = technology_priors({1: (1, 1), 2: (10, 10), 3: (0, 10), 4: (2, 4)}, overall=0.5)
    assert 0 < priors[1] < priors[2]
    assert priors[3] < 0
    assert priors[4] == pytest.approx(0.0)  # approve rate equal to the overall rate


def test_prior_weight_is_learned_from_decisions_on_other_needs() -> None:
    # Technology 1 is approved for every need, technology 2 always rejected; features say nothing.
    examples = [
        NeedExamples(
            need_id=n, technology_ids=(1, 2, 3), features=np.zeros((3, 6)), approved=np.array([True, False, n % 2 == 0])
        )
        for n in range(1, 41)
    ]
    model = fit(examples, parts=("weights", "priors"))
    assert model.prior_weight > 0
    assert model.priors[1] > 0 > model.priors[2]
    scores = model.prior_scores()
    assert scores[1] > 0 > scores[2]


def test_artefact_round_trips_and_is_versioned() -> None:
    model = fit(_examples(10), parts=("weights", "priors"), now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    data = model.as_dict()
    assert data["trained_at"] == "2026-01-02T03:04:05+00:00"
    assert set(data["priors"]) <= {str(i) for i in range(1, 7)}
    again = FeedbackModel.from_dict(data)
    assert again.weights == model.weights and again.priors == pytest.approx(model.priors)
    with pytest.raises(ValueError, match="version"):
        FeedbackModel.from_dict({**data, "version": 99})
    with pytest.raises(ValueError, match="unknown ranking weights"):
        FeedbackModel.from_dict({**data, "weights": {"gravity": 1.0}})


def test_candidate_features_rank_exactly_as_the_matcher(hashing_matcher: Matcher) -> None:
    candidates = hashing_matcher.match_features(BEARING_NEED)
    assert candidates is not None
    example = need_examples(
        need_id=BEARING_NEED.id, candidates=candidates, decisions=dict.fromkeys(candidates.ids, True)
    )
    assert example is not None
    scores = example.features @ base_vector(DEFAULT)[:6]
    by_features = [example.technology_ids[i] for i in np.argsort(-scores, kind="stable")]
    ranked = [m.technology_id for m in hashing_matcher.match(BEARING_NEED, k=len(by_features), explain=False)]
    assert ranked == by_features


def test_applied_priors_reorder_and_no_model_restores_the_defaults(hashing_matcher: Matcher) -> None:
    before = [m.technology_id for m in hashing_matcher.match(BEARING_NEED, k=5, explain=False)]
    top = before[0]
    model = FeedbackModel(
        weights={name: getattr(DEFAULT, name) for name in FUSION_FIELDS},
        # In evidence points, where a pair scores up to about 3.7: enough to move the top offering down.
        prior_weight=2.0,
        priors={top: -2.0},
        decisions=1,
        approved=0,
        needs=1,
        trained_at="now",
    )
    apply(hashing_matcher, model)
    after = [m.technology_id for m in hashing_matcher.match(BEARING_NEED, k=5, explain=False)]
    assert after[0] != top and top in after
    # Leads rank needs for one technology: a technology prior must not change them.
    apply(hashing_matcher, None)
    assert [m.technology_id for m in hashing_matcher.match(BEARING_NEED, k=5, explain=False)] == before


def test_split_is_deterministic_disjoint_and_keeps_every_language(mini_dir: Path) -> None:
    needs = load_into(Matcher(HashingEncoder()), load_dataset(mini_dir)).records.needs
    train, test = split_needs(needs, seed=3)
    assert split_needs(needs, seed=3) == (train, test)
    assert {n.id for n in train}.isdisjoint({n.id for n in test})
    assert len(train) + len(test) == len(needs)
    assert {n.lang for n in train} == {n.lang for n in test} == {"en", "da"}


def test_held_out_measurement_on_the_mini_set(mini_dir: Path) -> None:
    loaded = load_into(Matcher(HashingEncoder()), load_dataset(mini_dir))
    report = evaluate_feedback(loaded, seed=0, splits=3, propose_k=5)
    assert report["splits"] == 3 and len(report["per_split"]) == 3
    for row in report["per_split"]:
        assert set(row["train_needs"]).isdisjoint(row["test_needs"])
        assert row["decisions"] > 0
        assert set(row["after"]) == set(VARIANTS)
    summary = report["summary"]["weights+priors+neighbours"]
    assert set(summary) == {"all", "da", "en"}
    gains = [
        r["after"]["weights+priors+neighbours"]["all"]["ndcg@10"] - r["before"]["all"]["ndcg@10"]
        for r in report["per_split"]
    ]
    assert summary["all"]["gain_mean"] == pytest.approx(sum(gains) / 3, abs=1e-3)
    # The matcher is left on the defaults after measuring.
    assert loaded.matcher.weights == DEFAULT and loaded.matcher.priors == {}
    # Decisions that disagree with the defaults move the learned weights away from them.
    weights = [r["models"]["weights"]["weights"] for r in report["per_split"]]
    assert any(w != pytest.approx(fit([]).weights) for w in weights)


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_similar_decided_needs_vote_and_a_need_never_votes_for_itself() -> None:
    vectors = {1: _unit(1, 0, 0), 2: _unit(0, 1, 0), 3: _unit(1, 0.1, 0)}
    decisions = {1: {10: True, 20: False}, 2: {10: False, 30: True}, 3: {20: True}}
    votes = NeighbourVotes(vectors=vectors, decisions=decisions, top=1)
    # Closest to need 1 (itself left out) is need 3, which approved 20.
    assert list(votes.scores(vectors[1], 1, [10, 20, 30])) == pytest.approx([0.0, 1.0, 0.0])
    # An unseen need near need 1: 10 up, 20 down; nothing known about 40.
    near_1 = votes.scores(_unit(1, -0.2, 0), 99, [10, 20, 40])
    assert near_1[0] > 0 > near_1[1] and near_1[2] == 0
    assert list(NeighbourVotes(vectors={}, decisions=decisions).scores(vectors[1], 1, [10])) == [0.0]


def test_neighbour_weight_is_learned_when_similar_needs_agree() -> None:
    # Two groups of needs; within a group the same technology is approved and the features say nothing.
    rng = np.random.default_rng(0)
    examples, vectors = [], {}
    for n in range(1, 41):
        group = n % 2
        vectors[n] = _unit(1.0 if group else 0.0, 0.0 if group else 1.0, float(rng.normal(0, 0.1)))
        approved = np.array([group == 1, group == 0, False])
        examples.append(NeedExamples(need_id=n, technology_ids=(1, 2, 3), features=np.zeros((3, 6)), approved=approved))
    model = fit(examples, parts=("neighbours",), vectors=vectors)
    assert model.neighbour_weight > 0
    assert model.votes[1] == {1: True, 2: False, 3: False}
    again = FeedbackModel.from_dict(model.as_dict())
    assert again.votes == model.votes and again.neighbour_weight == model.neighbour_weight
    assert fit(examples, parts=("weights",), vectors=vectors).neighbour_weight == 0.0


def test_applied_neighbour_votes_use_the_stored_need_vectors(hashing_matcher: Matcher) -> None:
    before = [m.technology_id for m in hashing_matcher.match(BEARING_NEED, k=5, explain=False)]
    # BEARING_NEED (id 7) is stored; its decisions vote for a new need with the same words.
    model = FeedbackModel(
        weights=fit([]).weights,
        prior_weight=0.0,
        priors={},
        decisions=2,
        approved=1,
        needs=1,
        trained_at="now",
        # In evidence points, where a pair scores up to about 3.3: votes of this weight decide the order.
        neighbour_weight=5.0,
        votes={BEARING_NEED.id: {before[0]: False, before[-1]: True}},
    )
    apply(hashing_matcher, model)
    twin = Need(
        id=0,
        title=BEARING_NEED.title,
        description=BEARING_NEED.description,
        constraints=BEARING_NEED.constraints,
        sector=BEARING_NEED.sector,
    )
    after = [m.technology_id for m in hashing_matcher.match(twin, k=5, explain=False)]
    assert after[0] == before[-1] and after[-1] == before[0]
    apply(hashing_matcher, None)
    assert hashing_matcher.need_term is None


# -- outcomes: adoption and decline weigh more than curator decisions ------------------------------


def _curator_and_outcomes(needs: int, *, seed: int = 7, outcome_weight: float | None) -> list[NeedExamples]:
    """Curators judge by shared words (lexical), and half of them are wrong; what happened after the
    introduction (adopted or declined) follows the meaning (dense). Outcomes decide a third of the pairs."""
    rng = np.random.default_rng(seed)
    out = []
    for need_id in range(1, needs + 1):
        dense = rng.uniform(0.2, 0.9, 6)
        lexical = rng.uniform(0.0, 1.0, 6)
        truth = dense >= np.median(dense)
        curator = lexical >= np.median(lexical)
        followed = np.zeros(6, dtype=bool)
        followed[rng.choice(6, size=2, replace=False)] = True
        approved = np.where(followed, truth, curator) if outcome_weight is not None else curator
        weights = None if outcome_weight is None else np.where(followed, outcome_weight, 1.0)
        features = np.column_stack([dense, dense, lexical, np.zeros(6), np.zeros(6), np.zeros(6)])
        out.append(
            NeedExamples(
                need_id=need_id,
                technology_ids=tuple(range(1, 7)),
                features=features,
                approved=approved,
                weights=weights,
            )
        )
    return out


def _meaning_over_words(model: FeedbackModel) -> float:
    return (model.weights["dense"] + model.weights["sentence"]) / max(model.weights["lexical"], 1e-9)


def test_outcomes_teach_more_than_curator_decisions_and_weigh_more() -> None:
    curators = fit(_curator_and_outcomes(60, outcome_weight=None), parts=("weights",))
    unweighted = fit(_curator_and_outcomes(60, outcome_weight=1.0), parts=("weights",))
    weighted = fit(_curator_and_outcomes(60, outcome_weight=3.0), parts=("weights",))
    # Curators reward shared words; outcomes pull toward meaning, and more when they weigh more.
    assert _meaning_over_words(curators) < _meaning_over_words(unweighted) < _meaning_over_words(weighted)
    assert weighted.outcomes == 120 and 0 < weighted.adopted < 120 and curators.outcomes == 0
    assert unweighted.outcomes == 0  # an outcome counts as one only when it weighs more than a curator


def test_weights_of_one_change_nothing() -> None:
    examples = _examples(20)
    explicit = [
        NeedExamples(
            need_id=e.need_id,
            technology_ids=e.technology_ids,
            features=e.features,
            approved=e.approved,
            weights=np.ones(len(e.technology_ids)),
        )
        for e in examples
    ]
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert fit(explicit, now=now).as_dict() == fit(examples, now=now).as_dict() | {"vote_weights": {}}


def test_an_outcome_votes_louder_and_round_trips() -> None:
    vectors = {1: _unit(1, 0, 0), 2: _unit(1, 0.05, 0)}
    decisions = {1: {10: True, 20: True}, 2: {30: False}}
    votes = NeighbourVotes(vectors=vectors, decisions=decisions, top=1, decision_weights={1: {10: 3.0}})
    assert list(votes.scores(_unit(1, 0.01, 0), 99, [10, 20])) == pytest.approx([3.0, 1.0])
    examples = [
        NeedExamples(
            need_id=1,
            technology_ids=(10, 20, 30),
            features=np.eye(3, 6),
            approved=np.array([True, False, False]),
            weights=np.array([3.0, 1.0, 3.0]),
        )
    ]
    model = fit(examples, vectors={1: _unit(1, 0, 0)}, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert model.vote_weights == {1: {10: 3.0, 30: 3.0}} and (model.outcomes, model.adopted) == (2, 1)
    assert FeedbackModel.from_dict(model.as_dict()) == model
    older = model.as_dict()
    for key in ("vote_weights", "outcomes", "adopted"):
        older.pop(key)
    assert FeedbackModel.from_dict(older).vote_weights == {}  # a model learned before outcomes still reads


def test_held_out_measurement_separates_outcomes_from_curator_decisions(mini_dir: Path) -> None:
    loaded = load_into(Matcher(HashingEncoder()), load_dataset(mini_dir))
    plain = evaluate_feedback(loaded, seed=0, splits=2, propose_k=5)
    assert plain["signals"] == {} and "outcomes" not in plain["per_split"][0]
    report = evaluate_feedback(loaded, seed=0, splits=2, propose_k=5, outcome_share=1.0)
    assert set(report["signals"]) == set(SIGNALS)
    # The curator-only signal is the default learner of the main table, split for split.
    assert report["signals"]["curator decisions"] == report["summary"][report["default"]]
    assert report["summary"] == plain["summary"]  # the existing figures do not move
    for row in report["per_split"]:
        assert row["outcomes"]["followed"] >= row["outcomes"]["adopted"] > 0
    assert loaded.matcher.weights == DEFAULT and loaded.matcher.priors == {}
