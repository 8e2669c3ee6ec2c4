import numpy as np
import pytest

from matching.encoders.hashing import HashingEncoder
from matching.errors import IndexMismatchError
from matching.matcher import Matcher
from matching.types import Constraints, Need
from tests.matching.conftest import BEARING_NEED, TECHNOLOGIES, build_matcher


def ids(matches):
    return [m.technology_id for m in matches]


@pytest.mark.slow
def test_real_model_finds_the_known_solution_for_a_problem_in_plain_words(real_matcher):
    matches = real_matcher.match(BEARING_NEED, k=5)
    assert ids(matches)[0] == 11
    assert [m.rank for m in matches] == [1, 2, 3, 4, 5]
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)


@pytest.mark.slow
def test_real_model_matches_a_need_that_shares_no_words_with_its_answer(real_matcher):
    need = Need(
        id=0,
        title="Too much bread comes back",
        description="Every evening the shops return crates of unsold loaves; we guess how much to bake.",
    )
    assert ids(real_matcher.match(need, k=3, explain=False, mode="dense"))[0] == 33


@pytest.mark.slow
def test_real_model_infers_need_categories(real_matcher, real_encoder):
    vector = real_encoder.encode(["Bearings fail without warning and the press line stops"], kind="query")[0]
    _, tags = real_matcher.need_categories(vector)
    assert "predictive-maintenance" in tags


def test_a_constraint_violation_lowers_the_score_but_does_not_hide_the_offer(hashing_matcher):
    unconstrained = Need(id=0, title=BEARING_NEED.title, description=BEARING_NEED.description, sector="metal")
    free = {m.technology_id: m for m in hashing_matcher.match(unconstrained, k=5, explain=False)}
    bound = {m.technology_id: m for m in hashing_matcher.match(BEARING_NEED, k=5)}
    # 55 (German-only, DE, 60k) breaks budget, region and language; 11 fits every constraint.
    assert 55 in bound
    assert bound[55].score < free[55].score
    assert bound[55].components.constraint_penalty > 0
    assert bound[11].components.constraint_penalty == 0
    assert bound[11].rank < bound[55].rank
    verdicts = {v.name: v for v in bound[55].explanation.constraints}
    assert verdicts["budget"].detail == "price from 60,000 EUR is above the budget of 50,000 EUR"
    assert not verdicts["region"].satisfied and not verdicts["languages"].satisfied
    assert "above the budget of 50,000 EUR" in bound[55].explanation.summary


def test_explanation_carries_evidence(hashing_matcher):
    best = hashing_matcher.match(BEARING_NEED, k=1)[0]
    explanation = best.explanation
    assert best.technology_id == 11
    assert explanation.sentence_pairs, "aligned sentences expected"
    pair = explanation.sentence_pairs[0]
    assert pair.need_sentence in BEARING_NEED.description or pair.need_sentence == BEARING_NEED.title
    assert pair.technology_sentence in " ".join([TECHNOLOGIES[0].title, TECHNOLOGIES[0].description])
    assert -1.0 <= pair.similarity <= 1.0
    assert "bearings" in explanation.shared_terms
    assert "our" not in explanation.shared_terms
    assert all(v.satisfied for v in explanation.constraints)
    assert "fits every stated constraint" in explanation.summary
    assert set(explanation.shared_categories) <= set(TECHNOLOGIES[0].categories)


def test_exclude_never_proposes_a_rejected_technology(hashing_matcher):
    assert 11 not in ids(hashing_matcher.match(BEARING_NEED, k=5, exclude={11}))


def test_modes_rank_by_their_own_signal(hashing_matcher):
    dense = hashing_matcher.match(BEARING_NEED, k=5, explain=False, mode="dense")
    lexical = hashing_matcher.match(BEARING_NEED, k=5, explain=False, mode="lexical")
    assert [m.score for m in dense] == [m.components.dense for m in dense]
    assert [m.score for m in dense] == sorted((m.score for m in dense), reverse=True)
    assert all(m.score > 0 for m in lexical)
    assert [m.score for m in lexical] == sorted((m.score for m in lexical), reverse=True)


def test_leads_find_the_need_a_technology_solves(hashing_matcher):
    leads = hashing_matcher.leads(TECHNOLOGIES[0], k=3)
    assert leads[0].need_id == BEARING_NEED.id
    assert leads[0].technology_id == 11
    assert leads[0].explanation.sentence_pairs


def test_upsert_and_remove_change_what_is_found(hashing_matcher):
    hashing_matcher.catalogue.remove_technologies([11])
    assert 11 not in ids(hashing_matcher.match(BEARING_NEED, k=5, explain=False))
    assert hashing_matcher.catalogue.technology_count == len(TECHNOLOGIES) - 1
    hashing_matcher.catalogue.upsert_technologies(
        [TECHNOLOGIES[0]], hashing_matcher.encode_technologies([TECHNOLOGIES[0]])
    )
    assert ids(hashing_matcher.match(BEARING_NEED, k=1, explain=False)) == [11]


def test_empty_catalogue_gives_no_matches():
    assert Matcher(HashingEncoder()).match(BEARING_NEED) == []


def test_save_load_round_trip_and_mismatch_changes_nothing(tmp_path, hashing_matcher):
    hashing_matcher.catalogue.save(tmp_path, catalogue_version=7)
    fresh = Matcher(HashingEncoder())
    fresh.catalogue.load(tmp_path, technologies=TECHNOLOGIES, needs=[BEARING_NEED], catalogue_version=7)
    assert fresh.catalogue.technology_count == len(TECHNOLOGIES)
    assert ids(fresh.match(BEARING_NEED, k=2, explain=False)) == ids(
        hashing_matcher.match(BEARING_NEED, k=2, explain=False)
    )
    other = build_matcher(HashingEncoder())
    other.catalogue.remove_technologies([22])
    with pytest.raises(IndexMismatchError, match="catalogue_version"):
        other.catalogue.load(tmp_path, technologies=TECHNOLOGIES, needs=[BEARING_NEED], catalogue_version=8)
    with pytest.raises(IndexMismatchError, match="count"):
        other.catalogue.load(tmp_path, technologies=TECHNOLOGIES[:4], needs=[BEARING_NEED], catalogue_version=7)
    assert other.catalogue.technology_count == len(TECHNOLOGIES) - 1


def test_load_refuses_vectors_of_another_model(tmp_path, hashing_matcher):
    hashing_matcher.catalogue.save(tmp_path, catalogue_version=1)
    other = Matcher(HashingEncoder(dimension=64))
    with pytest.raises(IndexMismatchError, match="dimension"):
        other.catalogue.load(tmp_path, technologies=TECHNOLOGIES, needs=[BEARING_NEED], catalogue_version=1)


def test_ad_hoc_constraints_apply_to_text_without_a_stored_need(hashing_matcher):
    need = Need(
        id=0, title="", description="laser marking of serial numbers on parts", constraints=Constraints(region="DK-81")
    )
    top = hashing_matcher.match(need, k=1)[0]
    assert top.technology_id == 44
    assert not top.explanation.constraints[0].satisfied


def test_vectors_are_unit_length():
    vectors = HashingEncoder().encode(["a text", "another text", ""])
    norms = np.linalg.norm(vectors, axis=1)
    assert norms[0] == pytest.approx(1.0) and norms[2] == 0.0


def test_a_stored_need_or_technology_is_not_encoded_again_as_a_query(hashing_matcher):
    encoder = hashing_matcher.encoder
    hashing_matcher.need_categories(np.zeros(encoder.dimension, np.float32))  # category texts, encoded once
    # The best candidates' sentences (for their sentence cosine), encoded once and cached.
    hashing_matcher.match(BEARING_NEED, k=1, explain=False)
    hashing_matcher.leads(TECHNOLOGIES[0], k=1, explain=False)
    before = encoder.calls
    assert ids(hashing_matcher.match(BEARING_NEED, k=1, explain=False)) == [11]
    assert hashing_matcher.leads(TECHNOLOGIES[0], k=1, explain=False)[0].need_id == BEARING_NEED.id
    assert encoder.calls == before
    edited = Need(id=BEARING_NEED.id, title="Edited", description=BEARING_NEED.description)
    hashing_matcher.match(edited, k=1, explain=False)
    assert encoder.calls == before + 1  # the text differs from the indexed one, so it is encoded


def test_an_asymmetric_encoder_always_encodes_the_query(hashing_matcher):
    encoder = hashing_matcher.encoder
    encoder.symmetric = False  # e.g. E5, whose queries and passages get different prefixes
    hashing_matcher.need_categories(np.zeros(encoder.dimension, np.float32))
    hashing_matcher.match(BEARING_NEED, k=1, explain=False)  # caches the candidates' sentences
    before = encoder.calls
    hashing_matcher.match(BEARING_NEED, k=1, explain=False)
    assert encoder.calls == before + 1
