"""Demo-day pairing: the optimiser against brute force and greedy, revisions, rounds, scores and the picture."""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from matching.encoders.hashing import HashingEncoder
from matching.errors import MatchingError
from matching.pairing.heatmap import heatmap_png
from matching.pairing.optimiser import (
    FAIRNESS_MODES,
    PairingError,
    PairingProblem,
    PairingSolution,
    ScoreMatrix,
    changes,
    company_provider_scores,
    greedy,
    plan_demo_day,
    reoptimise,
    rounds_needed,
    solve,
)
from matching.pairing.schedule import Schedule, schedule_rounds
from matching.pairing.scores import scores_among
from matching.retrieval.texts import own_text, split_sentences
from matching.types import Need
from tests.matching.conftest import TECHNOLOGIES, build_matcher
from tests.matching.retrieval.test_sentence_cache import RecordingEncoder

PROPERTY = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
SCORES = st.sampled_from([0.0, 0.0, 0.1, 0.25, 0.4, 0.5, 0.55, 0.7, 0.8, 0.95, 1.0])


def matrix(values: list[list[float]]) -> ScoreMatrix:
    rows, cols = len(values), len(values[0]) if values else 0
    return ScoreMatrix(
        companies=tuple(range(1, rows + 1)),
        providers=tuple(range(101, 101 + cols)),
        values=np.array(values, dtype=float).reshape(rows, cols),
    )


@st.composite
def problems(draw: st.DrawFn, *, max_companies: int = 4, max_providers: int = 3) -> PairingProblem:
    n = draw(st.integers(1, max_companies))
    p = draw(st.integers(1, max_providers))
    scores = matrix([[draw(SCORES) for _ in range(p)] for _ in range(n)])
    all_pairs = list(itertools.product(scores.companies, scores.providers))
    must = draw(st.sets(st.sampled_from(all_pairs), max_size=2))
    never = draw(st.sets(st.sampled_from(all_pairs), max_size=3)) - must
    try:
        return PairingProblem(
            scores=scores,
            capacity={provider: draw(st.integers(0, 3)) for provider in scores.providers},
            max_per_company=draw(st.integers(0, 3)),
            must_pairs=must,
            never_pairs=never,
            min_score=draw(st.sampled_from([0.0, 0.3, 0.5])),
            fairness=draw(st.sampled_from(FAIRNESS_MODES)),
        )
    except PairingError:
        assume(False)
        raise


def acceptable(problem: PairingProblem, pair: tuple[int, int]) -> bool:
    score = problem.scores.score(pair)
    return pair in problem.must_pairs or (pair not in problem.never_pairs and score > 0 and score >= problem.min_score)


def assert_feasible(problem: PairingProblem, solution: PairingSolution) -> None:
    per_company = Counter(a.company for a in solution.assignments)
    per_provider = Counter(a.provider for a in solution.assignments)
    assert all(count <= problem.company_limit() for count in per_company.values())
    assert all(count <= problem.provider_limit(p) for p, count in per_provider.items())
    assert problem.must_pairs <= solution.pairs
    assert not problem.never_pairs & solution.pairs
    assert all(acceptable(problem, a.pair) for a in solution.assignments)
    assert len(solution.pairs) == len(solution.assignments)
    assert solution.total_score == pytest.approx(sum(a.score for a in solution.assignments), abs=1e-6)


def lexicographic_key(problem: PairingProblem, pairs: tuple[tuple[int, int], ...]) -> tuple[float, ...]:
    best: dict[int, float] = {}
    for pair in pairs:
        best[pair[0]] = max(best.get(pair[0], 0.0), problem.scores.score(pair))
    total = sum(problem.scores.score(pair) for pair in pairs)
    if problem.fairness == "none":
        return (total,)
    if problem.fairness == "coverage":
        return (len(best), total)
    return (len(best), min(best.values(), default=0.0), total)


def brute_force(problem: PairingProblem) -> tuple[float, ...]:
    candidates = [
        pair
        for pair in itertools.product(problem.scores.companies, problem.scores.providers)
        if acceptable(problem, pair)
    ]
    best_key: tuple[float, ...] | None = None
    for size in range(len(candidates) + 1):
        for subset in itertools.combinations(candidates, size):
            if not problem.must_pairs <= set(subset):
                continue
            if any(n > problem.company_limit() for n in Counter(c for c, _ in subset).values()):
                continue
            if any(n > problem.provider_limit(p) for p, n in Counter(p for _, p in subset).items()):
                continue
            key = lexicographic_key(problem, subset)
            if best_key is None or key > best_key:
                best_key = key
    assert best_key is not None
    return best_key


# -- the optimiser --------------------------------------------------------------------------


@PROPERTY
@given(problems())
def test_plans_respect_every_limit_and_list(problem: PairingProblem) -> None:
    solution = solve(problem)
    assert solution.optimal
    assert_feasible(problem, solution)
    assert_feasible(problem, greedy(problem))


@PROPERTY
@given(problems())
def test_optimal_is_at_least_as_good_as_greedy(problem: PairingProblem) -> None:
    optimal, baseline = solve(problem), greedy(problem)
    if problem.fairness == "none":
        assert optimal.total_score >= baseline.total_score - 1e-9
    else:  # fairness comes first: at least as many companies covered
        assert optimal.covered_companies >= baseline.covered_companies
    assert optimal.bound is not None and optimal.bound >= optimal.total_score - 1e-6
    assert baseline.bound is None


@PROPERTY
@given(problems(max_companies=3, max_providers=3))
def test_optimum_equals_brute_force_on_tiny_instances(problem: PairingProblem) -> None:
    solution = solve(problem)
    expected = brute_force(problem)
    got = lexicographic_key(problem, tuple(a.pair for a in solution.assignments))
    assert got == pytest.approx(expected, abs=1e-6)


def test_coverage_gives_everyone_a_first_demo_before_anyone_a_second() -> None:
    # Company 1 is the best fit everywhere; without fairness it takes both slots of provider 101.
    scores = matrix([[0.9, 0.8], [0.3, 0.0], [0.0, 0.2]])
    common = {"scores": scores, "capacity": {101: 1, 102: 2}, "max_per_company": 2}
    plain = solve(PairingProblem(**common))
    fair = solve(PairingProblem(**common, fairness="coverage"))
    assert plain.pairs == {(1, 101), (1, 102), (3, 102)}
    assert fair.pairs == {(1, 102), (2, 101), (3, 102)}
    assert fair.covered_companies == 3 and fair.unassigned_companies == ()
    assert plain.unassigned_companies == (2,)


def test_maximin_lifts_the_worst_off_company() -> None:
    # Both plans cover both companies; maximin trades total score for a better worst pair.
    scores = matrix([[1.0, 0.4], [0.5, 0.3]])
    common = {"scores": scores, "capacity": {101: 1, 102: 1}, "max_per_company": 1}
    coverage = solve(PairingProblem(**common, fairness="coverage"))
    maximin = solve(PairingProblem(**common, fairness="maximin"))
    assert coverage.pairs == {(1, 101), (2, 102)} and coverage.worst_best_score == pytest.approx(0.3)
    assert maximin.pairs == {(1, 102), (2, 101)} and maximin.worst_best_score == pytest.approx(0.4)


def test_min_score_prunes_pairs_and_zero_means_no_match() -> None:
    scores = matrix([[0.2, 0.0], [0.6, 0.45]])
    solution = solve(PairingProblem(scores=scores, capacity={101: 2, 102: 2}, max_per_company=2, min_score=0.4))
    assert solution.pairs == {(2, 101), (2, 102)}
    assert solution.variables == 2
    assert solution.unassigned_companies == (1,)


def test_must_pairs_are_made_even_below_the_minimum_score() -> None:
    scores = matrix([[0.1, 0.9]])
    problem = PairingProblem(
        scores=scores, capacity={101: 1, 102: 1}, max_per_company=1, min_score=0.5, must_pairs={(1, 101)}
    )
    solution = solve(problem)
    assert solution.pairs == {(1, 101)}
    assert solution.assignments[0].locked


@pytest.mark.parametrize(
    ("capacity", "max_per_company", "must", "message"),
    [
        ({101: 1, 102: 1}, 2, {(1, 101), (2, 101)}, "provider 101"),
        ({101: 2, 102: 2}, 1, {(1, 101), (1, 102)}, "company 1"),
    ],
)
def test_must_pairs_that_do_not_fit_are_a_clear_error(capacity, max_per_company, must, message) -> None:
    with pytest.raises(PairingError, match=message) as caught:
        PairingProblem(
            scores=matrix([[0.5, 0.5], [0.5, 0.5]]), capacity=capacity, max_per_company=max_per_company, must_pairs=must
        )
    assert isinstance(caught.value, MatchingError)


@pytest.mark.parametrize(
    ("changes_", "message"),
    [
        ({"capacity": {101: 1}}, "no capacity"),
        ({"fairness": "random"}, "fairness"),
        ({"must_pairs": {(9, 101)}}, "not in the plan"),
        ({"must_pairs": {(1, 101)}, "never_pairs": {(1, 101)}}, "both"),
        ({"rounds": 0}, "rounds"),
        ({"min_score": 1.5}, "min_score"),
    ],
)
def test_bad_problems_are_rejected(changes_, message) -> None:
    arguments = {"scores": matrix([[0.5, 0.5]]), "capacity": {101: 1, 102: 1}, "max_per_company": 1, **changes_}
    with pytest.raises(PairingError, match=message):
        PairingProblem(**arguments)


def test_rounds_cap_what_a_provider_can_host() -> None:
    scores = matrix([[0.9, 0.0], [0.8, 0.0], [0.7, 0.6]])
    problem = PairingProblem(scores=scores, capacity={101: 5, 102: 5}, max_per_company=3, rounds=2)
    plan = plan_demo_day(problem)
    assert Counter(a.provider for a in plan.solution.assignments)[101] == 2
    assert plan.schedule is not None and plan.schedule.unscheduled == ()
    tables = dataclasses.replace(problem, tables={101: 2})
    assert Counter(a.provider for a in plan_demo_day(tables).solution.assignments)[101] == 3


def test_a_sparse_large_instance_solves_to_proven_optimality() -> None:
    rng = np.random.default_rng(7)
    values = rng.random((300, 60)) * (rng.random((300, 60)) < 0.1)
    scores = ScoreMatrix(companies=tuple(range(300)), providers=tuple(range(1000, 1060)), values=values)
    problem = PairingProblem(
        scores=scores,
        capacity=dict.fromkeys(scores.providers, 8),
        max_per_company=2,
        min_score=0.3,
        fairness="coverage",
    )
    solution = solve(problem)
    assert solution.optimal and solution.gap is not None and solution.gap < 1e-6
    assert solution.variables < 0.1 * values.size
    assert solution.covered_companies >= greedy(problem).covered_companies


# -- revisions ------------------------------------------------------------------------------


@PROPERTY
@given(problems(), st.data())
def test_revisions_keep_locks_and_never_bring_removed_pairs_back(problem: PairingProblem, data) -> None:
    first = plan_demo_day(problem)
    all_pairs = list(itertools.product(problem.scores.companies, problem.scores.providers))
    removals = data.draw(st.sets(st.sampled_from(all_pairs), max_size=2))
    locks = data.draw(st.sets(st.sampled_from([a.pair for a in first.solution.assignments] or all_pairs), max_size=2))
    locks -= removals
    try:
        second = reoptimise(first, locks=locks, removals=removals)
    except PairingError:
        assume(False)
        raise
    assert (locks | problem.must_pairs - removals) <= second.solution.pairs
    assert not (removals | problem.never_pairs - locks) & second.solution.pairs
    assert_feasible(second.problem, second.solution)
    # Removals carry into the next revision.
    third = reoptimise(second)
    assert not removals & third.solution.pairs


def test_a_revision_changes_only_what_it_must() -> None:
    # Every company scores the same everywhere: many optimal plans, and the revision keeps the old one.
    scores = matrix([[0.5] * 4 for _ in range(6)])
    problem = PairingProblem(scores=scores, capacity=dict.fromkeys(scores.providers, 4), max_per_company=2, rounds=4)
    first = plan_demo_day(problem)
    removed = first.solution.assignments[0].pair
    second = reoptimise(first, removals=[removed])
    added, dropped = changes(first, second)
    assert dropped == (removed,)
    assert len(added) == 1
    assert second.solution.total_score == pytest.approx(first.solution.total_score)
    kept_rounds = {(s.company, s.provider): s.round for s in second.schedule.slots}
    assert (
        sum(kept_rounds.get((s.company, s.provider)) == s.round for s in first.schedule.slots)
        >= len(first.schedule.slots) - 2
    )


def test_removing_a_locked_pair_unlocks_it() -> None:
    problem = PairingProblem(scores=matrix([[0.5, 0.9]]), capacity={101: 1, 102: 1}, max_per_company=1)
    locked = reoptimise(plan_demo_day(problem), locks=[(1, 101)])
    assert locked.solution.pairs == {(1, 101)}
    unlocked = reoptimise(locked, removals=[(1, 101)])
    assert unlocked.solution.pairs == {(1, 102)}
    assert unlocked.problem.must_pairs == frozenset()
    with pytest.raises(PairingError, match="locked and removed"):
        reoptimise(locked, locks=[(1, 102)], removals=[(1, 102)])


# -- rounds ---------------------------------------------------------------------------------


def assert_no_double_booking(schedule: Schedule, tables: dict[int, int]) -> None:
    companies = Counter((s.round, s.company) for s in schedule.slots)
    providers = Counter((s.round, s.provider) for s in schedule.slots)
    seats = Counter((s.round, s.provider, s.table) for s in schedule.slots)
    assert max(companies.values(), default=0) <= 1
    assert all(n <= tables.get(p, 1) for (_, p), n in providers.items())
    assert max(seats.values(), default=0) <= 1
    assert all(1 <= s.round <= schedule.rounds and 1 <= s.table <= tables.get(s.provider, 1) for s in schedule.slots)


@settings(max_examples=80, deadline=None, database=None)
@given(
    st.sets(st.tuples(st.integers(1, 8), st.integers(101, 105)), max_size=30),
    st.integers(1, 5),
    st.dictionaries(st.integers(101, 105), st.integers(1, 3)),
)
def test_schedules_never_double_book_and_fit_whenever_the_degrees_allow(pairs, rounds, tables) -> None:
    pairs = sorted(pairs)
    schedule = schedule_rounds(pairs, rounds=rounds, tables=tables)
    assert_no_double_booking(schedule, tables)
    placed = [(s.company, s.provider) for s in schedule.slots]
    assert sorted(placed + list(schedule.unscheduled)) == pairs
    company_degree = Counter(c for c, _ in pairs)
    provider_degree = Counter(p for _, p in pairs)
    fits = all(d <= rounds for d in company_degree.values()) and all(
        d <= rounds * tables.get(p, 1) for p, d in provider_degree.items()
    )
    assert (schedule.unscheduled == ()) == fits
    # Only what must be is dropped: each dropped pair's company or provider is full.
    kept_company = Counter(c for c, _ in placed)
    kept_provider = Counter(p for _, p in placed)
    for company, provider in schedule.unscheduled:
        assert kept_company[company] == rounds or kept_provider[provider] == rounds * tables.get(provider, 1)


def test_pairs_beyond_the_rounds_are_reported_lightest_first_kept() -> None:
    pairs = [(1, 101), (1, 102), (1, 103)]
    schedule = schedule_rounds(pairs, rounds=2, weights=[0.9, 0.2, 0.5])
    assert schedule.unscheduled == ((1, 102),)
    assert sorted(s.round for s in schedule.slots) == [1, 2]
    kept = schedule_rounds(pairs, rounds=2, weights=[0.9, 0.2, 0.5], keep={(1, 102)})
    assert kept.unscheduled == ((1, 103),)


def test_a_provider_with_two_tables_hosts_two_companies_a_round() -> None:
    pairs = [(c, 101) for c in range(1, 7)]
    schedule = schedule_rounds(pairs, rounds=3, tables={101: 2})
    assert schedule.unscheduled == ()
    assert_no_double_booking(schedule, {101: 2})
    assert Counter(s.round for s in schedule.slots) == {1: 2, 2: 2, 3: 2}


def test_a_previous_schedule_is_kept_where_it_still_fits() -> None:
    pairs = [(1, 101), (2, 101), (1, 102), (2, 102)]
    first = schedule_rounds(pairs, rounds=2)
    second = schedule_rounds([*pairs, (3, 103)], rounds=2, previous=first)
    assert set(first.slots) <= set(second.slots)
    assert second.round_of((3, 103)) in (1, 2)
    with pytest.raises(ValueError, match="rounds"):
        schedule_rounds(pairs, rounds=0)


# -- scores from the engine and the picture --------------------------------------------------


def test_company_provider_score_is_the_best_over_needs_and_technologies() -> None:
    # Provider 1 offers the maintenance technologies (11, 55), provider 2 the rest.
    owner = {11: 1, 55: 1, 22: 2, 33: 2, 44: 2}
    technologies = [dataclasses.replace(t, provider_id=owner[t.id]) for t in TECHNOLOGIES]
    matcher = build_matcher(HashingEncoder())
    matcher.catalogue.build(
        technologies=technologies,
        technology_vectors=matcher.encode_technologies(technologies),
        needs=[],
        need_vectors=np.zeros((0, matcher.encoder.dimension), dtype=np.float32),
    )
    needs = [
        Need(id=1, title="Bearings", description="Vibration sensors to warn before a bearing fails.", company_id=5),
        Need(id=2, title="Bread", description="Forecast daily demand so bakeries waste less bread.", company_id=5),
        Need(id=3, title="Welding", description="A welding robot for small batches of frames.", company_id=6),
    ]
    scores = company_provider_scores(matcher, needs=needs, technologies=technologies)
    assert scores.companies == (5, 6) and scores.providers == (1, 2)
    for company in (5, 6):
        for provider in (1, 2):
            expected = max(
                (
                    m.score
                    for n in needs
                    if n.company_id == company
                    for m in matcher.match(n, k=10, explain=False)
                    if owner[m.technology_id] == provider
                ),
                default=0.0,
            )
            assert scores.score((company, provider)) == pytest.approx(expected)
    assert scores.values.max() <= 1.0 and scores.values.min() >= 0.0
    assert scores.score((6, 2)) > scores.score((6, 1))
    # Each scored pair names the need and the technology its score comes from.
    assert scores.best[(5, 1)].technology_id in (11, 55) and scores.best[(5, 1)].need_id == 1
    assert scores.best[(6, 2)].need_id == 3 and owner[scores.best[(6, 2)].technology_id] == 2
    assert set(scores.best) == {pair for pair in itertools.product((5, 6), (1, 2)) if scores.score(pair) > 0}


def test_scores_are_computed_for_the_plan_offerings_only_with_stored_vectors_and_one_encode() -> None:
    encoder = RecordingEncoder(HashingEncoder())
    technologies = [dataclasses.replace(t, provider_id=1 if t.id in (11, 55) else 2) for t in TECHNOLOGIES]
    matcher = build_matcher(encoder)
    needs = [
        Need(id=1, title="Bearings", description="Vibration sensors to warn before a bearing fails.", company_id=5),
        Need(id=3, title="Welding", description="A welding robot for small batches of frames.", company_id=6),
    ]
    matcher.catalogue.build(
        technologies=technologies,
        technology_vectors=matcher.encode_technologies(technologies),
        needs=needs,
        need_vectors=matcher.encode_needs(needs),
    )
    matcher.need_categories(np.zeros(encoder.dimension, np.float32))  # the category descriptions, once
    encoder.calls.clear()
    scores = company_provider_scores(matcher, needs=needs, technologies=technologies, providers=[1])
    # Stored needs are their own queries (no query encoded); only provider 1's sentences, in one call.
    assert [kind for kind, _ in encoder.calls] == ["passage"]
    provider_1 = {
        s for t in technologies if t.provider_id == 1 for s in split_sentences(own_text(t.title, t.description))
    }
    assert set(encoder.calls[0][1]) == provider_1
    for need in needs:
        full = {m.technology_id: m.score for m in matcher.match(need, k=len(technologies), explain=False)}
        among = scores_among(matcher, need, [11, 55])
        assert {m.technology_id for m in among} == {11, 55}
        for m in among:
            assert m.score == pytest.approx(full[m.technology_id])  # the same score as in the need's list
    assert scores.providers == (1,)


def test_the_heat_map_is_a_png() -> None:
    scores = matrix([[0.9, 0.1, 0.0], [0.4, 0.8, 0.3]])
    plan = plan_demo_day(
        PairingProblem(
            scores=scores, capacity=dict.fromkeys(scores.providers, 1), max_per_company=1, must_pairs={(2, 102)}
        )
    )
    png = heatmap_png(scores, assignments=plan.solution.assignments, company_labels={1: "Acme"})
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000


def test_without_rounds_the_day_gets_as_few_rounds_as_the_plan_needs() -> None:
    scores = matrix([[0.9, 0.8, 0.7], [0.6, 0.5, 0.0], [0.4, 0.0, 0.0]])
    problem = PairingProblem(scores=scores, capacity={101: 3, 102: 2, 103: 1}, max_per_company=3, tables={101: 2})
    plan = plan_demo_day(problem)
    assert plan.schedule.unscheduled == ()
    assert plan.schedule.rounds == rounds_needed(plan.solution, tables={101: 2}) == 3
    assert plan.greedy_total_score <= plan.solution.total_score
