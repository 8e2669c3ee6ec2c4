"""Demonstration-day pairing: which SME meets which technology provider, optimised from match scores.

A company-provider score is the best match score over the company's needs and the provider's
technologies (0 means no match). The optimiser is a MILP solved by HiGHS (scipy.optimize.milp):
binary x[c, p] for every acceptable pair only (score >= min_score, or a must-pair), so sparse
score matrices of 1,000 x 200 solve in seconds. Without fairness the constraint matrix is a
bipartite incidence matrix (totally unimodular), so the LP relaxation is already integral.
Fairness modes are lexicographic: each stage fixes the optimum of the one before.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal, get_args

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, milp

from matching.errors import MatchingError
from matching.pairing.schedule import Pair, Schedule, schedule_rounds, tables_for
from matching.pairing.scores import scores_among, warm_sentences

if TYPE_CHECKING:
    from matching.matcher import Matcher
    from matching.types import Need, Technology

Fairness = Literal["none", "coverage", "maximin"]
FAIRNESS_MODES: tuple[Fairness, ...] = get_args(Fairness)

DEFAULT_TIME_LIMIT = 60.0
# HiGHS stops at a 1e-4 relative gap by default; a plan called optimal should be optimal.
_MIP_REL_GAP = 1e-9
# Slack when a later stage keeps an earlier stage's count of covered companies.
_STAGE_TOLERANCE = 1e-6

__all__ = [
    "FAIRNESS_MODES",
    "Assignment",
    "BestPair",
    "Fairness",
    "Pair",
    "PairingError",
    "PairingPlan",
    "PairingProblem",
    "PairingSolution",
    "ScoreMatrix",
    "changes",
    "company_provider_scores",
    "greedy",
    "plan_demo_day",
    "reoptimise",
    "rounds_needed",
    "solve",
]


class PairingError(MatchingError):
    """A pairing problem that cannot be solved as asked: bad input or must-pairs that do not fit."""


@dataclass(frozen=True, slots=True)
class BestPair:
    """What a company-provider score comes from: the SME's need and the provider's technology that score it."""

    need_id: int
    technology_id: int


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ScoreMatrix:
    """Scores of companies (rows) x providers (columns), in [0, 1]; 0 means no match.

    `best` names, for a scored pair, the need and technology its score comes from (when known).
    """

    companies: tuple[int, ...]
    providers: tuple[int, ...]
    values: np.ndarray
    best: Mapping[Pair, BestPair] = field(default_factory=dict)

    def __post_init__(self) -> None:
        values = np.array(self.values, dtype=np.float64)
        if values.shape != (len(self.companies), len(self.providers)):
            raise PairingError(
                f"score matrix is {values.shape}, expected {len(self.companies)} companies x "
                f"{len(self.providers)} providers"
            )
        if values.size and (not np.all(np.isfinite(values)) or values.min() < 0):
            raise PairingError("scores must be finite and not negative")
        if len(set(self.companies)) != len(self.companies) or len(set(self.providers)) != len(self.providers):
            raise PairingError("company and provider ids must be unique")
        values.setflags(write=False)
        object.__setattr__(self, "best", dict(self.best))
        object.__setattr__(self, "companies", tuple(self.companies))
        object.__setattr__(self, "providers", tuple(self.providers))
        object.__setattr__(self, "values", values)

    def score(self, pair: Pair) -> float:
        return float(self.values[self.companies.index(pair[0]), self.providers.index(pair[1])])


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PairingProblem:
    """Everything a demo-day plan depends on.

    `capacity` gives each provider's demo slots for the day, `max_per_company` each company's.
    With `rounds`, the optimiser also respects the room: a company is in at most `rounds` demos,
    a provider hosts at most `rounds * tables` (tables per provider, default 1).
    Must-pairs are made whatever their score; never-pairs are never made.
    """

    scores: ScoreMatrix
    capacity: Mapping[int, int]
    max_per_company: int
    must_pairs: frozenset[Pair] = frozenset()
    never_pairs: frozenset[Pair] = frozenset()
    min_score: float = 0.0
    fairness: Fairness = "none"
    rounds: int | None = None
    tables: Mapping[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "capacity", dict(self.capacity))
        object.__setattr__(self, "tables", dict(self.tables))
        object.__setattr__(self, "must_pairs", frozenset((int(c), int(p)) for c, p in self.must_pairs))
        object.__setattr__(self, "never_pairs", frozenset((int(c), int(p)) for c, p in self.never_pairs))
        if self.fairness not in FAIRNESS_MODES:
            raise PairingError(f"fairness must be one of {', '.join(FAIRNESS_MODES)}, not {self.fairness!r}")
        if self.max_per_company < 0:
            raise PairingError("max_per_company must not be negative")
        if not 0.0 <= self.min_score <= 1.0:
            raise PairingError("min_score must be between 0 and 1")
        if self.rounds is not None and self.rounds < 1:
            raise PairingError("rounds must be at least 1")
        providers = set(self.scores.providers)
        companies = set(self.scores.companies)
        missing = sorted(providers - set(self.capacity))
        if missing:
            raise PairingError(f"no capacity given for provider(s) {', '.join(map(str, missing))}")
        for provider, slots in self.capacity.items():
            if slots < 0:
                raise PairingError(f"capacity of provider {provider} is negative")
        for provider, count in self.tables.items():
            if count < 1:
                raise PairingError(f"provider {provider} needs at least one table")
        for kind, pairs in (("must", self.must_pairs), ("never", self.never_pairs)):
            for company, provider in sorted(pairs):
                if company not in companies or provider not in providers:
                    raise PairingError(
                        f"{kind}-pair ({company}, {provider}) names a company or provider not in the plan"
                    )
        both = sorted(self.must_pairs & self.never_pairs)
        if both:
            raise PairingError(f"pair {both[0]} is both a must-pair and a never-pair")
        self._check_must_pairs_fit()

    def company_limit(self) -> int:
        return self.max_per_company if self.rounds is None else min(self.max_per_company, self.rounds)

    def provider_limit(self, provider: int) -> int:
        slots = self.capacity[provider]
        return slots if self.rounds is None else min(slots, self.rounds * tables_for(self.tables, provider))

    def _check_must_pairs_fit(self) -> None:
        per_company: dict[int, int] = defaultdict(int)
        per_provider: dict[int, int] = defaultdict(int)
        for company, provider in self.must_pairs:
            per_company[company] += 1
            per_provider[provider] += 1
        for provider, count in sorted(per_provider.items()):
            if count > self.provider_limit(provider):
                raise PairingError(
                    f"must-pairs need {count} demos at provider {provider}, "
                    f"which has {self.provider_limit(provider)} slot(s)"
                )
        for company, count in sorted(per_company.items()):
            if count > self.company_limit():
                raise PairingError(
                    f"must-pairs give company {company} {count} demos, more than the {self.company_limit()} allowed"
                )


@dataclass(frozen=True, slots=True, kw_only=True)
class Assignment:
    company: int
    provider: int
    score: float
    locked: bool = False

    @property
    def pair(self) -> Pair:
        return (self.company, self.provider)


@dataclass(frozen=True, slots=True, kw_only=True)
class PairingSolution:
    """A set of pairs and how good it is; `bound` and `gap` are the solver's proof (None for greedy)."""

    method: Literal["milp", "greedy"]
    fairness: Fairness
    assignments: tuple[Assignment, ...]
    total_score: float
    covered_companies: int
    unassigned_companies: tuple[int, ...]
    worst_best_score: float | None
    optimal: bool
    bound: float | None
    gap: float | None
    seconds: float
    variables: int
    status: str

    @property
    def pairs(self) -> frozenset[Pair]:
        return frozenset(a.pair for a in self.assignments)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PairingPlan:
    """A demo-day plan: the problem, the chosen pairs, their rounds and the greedy baseline's figures.

    The greedy baseline (best pairs first while limits allow) ignores fairness, so under coverage or
    maximin fairness its total may be above the plan's: it buys that total with SMEs left without a demo.
    """

    problem: PairingProblem
    solution: PairingSolution
    schedule: Schedule
    greedy_total_score: float
    greedy_covered_companies: int = 0


# -- scores -----------------------------------------------------------------------------------


def company_provider_scores(
    matcher: Matcher,
    *,
    needs: Sequence[Need],
    technologies: Sequence[Technology],
    companies: Sequence[int] | None = None,
    providers: Sequence[int] | None = None,
    query_vectors: np.ndarray | None = None,
) -> ScoreMatrix:
    """Best match score over each company's needs and each provider's technologies.

    `technologies` tell which provider offers what (their `provider_id`); the matcher must hold
    them. Each need is scored against exactly the technologies of `providers` (never the whole
    catalogue): the stored need vectors serve as queries where the encoder allows, the rest are
    encoded in one call, and the technologies' sentences are encoded (when not cached) in one call
    before the first need. `query_vectors`, row-aligned with `needs`, replace all that encoding.
    """
    provider_of = {t.id: t.provider_id for t in technologies if t.provider_id is not None}
    if companies is None:
        companies = sorted({n.company_id for n in needs if n.company_id is not None})
    if providers is None:
        providers = sorted(set(provider_of.values()))
    row = {c: i for i, c in enumerate(companies)}
    col = {p: j for j, p in enumerate(providers)}
    values = np.zeros((len(companies), len(providers)), dtype=np.float64)
    best: dict[Pair, BestPair] = {}
    offered = [t for t, p in provider_of.items() if p in col]
    planned = [n for n in needs if n.company_id in row]
    if query_vectors is None:
        vectors = matcher.query_vectors(planned)
    else:
        vectors = np.asarray([v for n, v in zip(needs, query_vectors, strict=True) if n.company_id in row])
    if offered and planned:
        warm_sentences(matcher, offered)
    for need, vector in zip(planned, vectors, strict=True):
        company = need.company_id
        if company is None:
            continue
        for match in scores_among(matcher, need, offered, query_vector=vector):
            i, j = row[company], col[provider_of[match.technology_id]]
            score = min(max(match.score, 0.0), 1.0)
            if score > values[i, j]:
                values[i, j] = score
                best[(companies[i], providers[j])] = BestPair(need_id=need.id, technology_id=match.technology_id)
    return ScoreMatrix(companies=tuple(companies), providers=tuple(providers), values=values, best=best)


# -- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Candidates:
    """The pruned variables: one per acceptable pair, as parallel arrays."""

    rows: np.ndarray  # company index
    cols: np.ndarray  # provider index
    weights: np.ndarray
    fixed: np.ndarray  # bool: must-pairs

    def __len__(self) -> int:
        return len(self.weights)


def _candidates(problem: PairingProblem) -> _Candidates:
    matrix = problem.scores
    values = matrix.values
    row = {c: i for i, c in enumerate(matrix.companies)}
    col = {p: j for j, p in enumerate(matrix.providers)}
    acceptable = (values > 0) & (values >= problem.min_score)
    limits = np.array([problem.provider_limit(p) for p in matrix.providers])
    if problem.company_limit() == 0:
        acceptable[:] = False
    acceptable[:, limits == 0] = False
    for company, provider in problem.never_pairs:
        acceptable[row[company], col[provider]] = False
    fixed = np.zeros_like(acceptable)
    for company, provider in problem.must_pairs:
        fixed[row[company], col[provider]] = True
    acceptable |= fixed
    rows, cols = np.nonzero(acceptable)
    return _Candidates(rows=rows, cols=cols, weights=values[rows, cols], fixed=fixed[rows, cols])


class _Model:
    """The MILP pieces shared by every stage; variables are x (one per candidate) then h (one per company)."""

    def __init__(self, problem: PairingProblem, candidates: _Candidates, *, deadline: float) -> None:
        self.problem = problem
        self.c = candidates
        self.deadline = deadline
        n_edges = len(candidates)
        self.companies = np.unique(candidates.rows)  # companies with any acceptable pair
        self.h_of_row = {int(r): k for k, r in enumerate(self.companies)}
        self.n_x = n_edges
        self.n_h = len(self.companies)
        self.optimal = True
        self.bound: float | None = None
        edges = np.arange(n_edges)
        n_companies = len(problem.scores.companies)
        n_providers = len(problem.scores.providers)
        a_company = sparse.csr_array((np.ones(n_edges), (candidates.rows, edges)), shape=(n_companies, n_edges))
        a_provider = sparse.csr_array((np.ones(n_edges), (candidates.cols, edges)), shape=(n_providers, n_edges))
        provider_limits = np.array([problem.provider_limit(p) for p in problem.scores.providers], dtype=float)
        self.base = [
            LinearConstraint(self._with_h(a_company), -np.inf, float(problem.company_limit())),
            LinearConstraint(self._with_h(a_provider), -np.inf, provider_limits),
        ]
        self.integrality = np.concatenate([np.ones(n_edges), np.zeros(self.n_h)])
        self.bounds = Bounds(
            np.concatenate([candidates.fixed.astype(float), np.zeros(self.n_h)]),
            np.ones(n_edges + self.n_h),
        )

    def _with_h(self, a_x: sparse.csr_array) -> sparse.csr_array:
        widened: sparse.csr_array = sparse.hstack([a_x, sparse.csr_array((a_x.shape[0], self.n_h))], format="csr")
        return widened

    def covering(self, threshold: float) -> LinearConstraint:
        """h[company] <= number of its pairs scoring at least `threshold` (so h = 1 means such a pair)."""
        mask = self.c.weights >= threshold
        edges = np.nonzero(mask)[0]
        h_rows = np.array([self.h_of_row[int(r)] for r in self.c.rows[edges]], dtype=int)
        a_x = sparse.csr_array((-np.ones(len(edges)), (h_rows, edges)), shape=(self.n_h, self.n_x))
        a = sparse.hstack([a_x, sparse.eye_array(self.n_h)], format="csr")
        return LinearConstraint(a, -np.inf, 0.0)

    def at_least_covered(self, count: int) -> LinearConstraint:
        a = np.concatenate([np.zeros(self.n_x), np.ones(self.n_h)])
        return LinearConstraint(a.reshape(1, -1), count - _STAGE_TOLERANCE, np.inf)

    def total_at_least(self, total: float) -> LinearConstraint:
        a = np.concatenate([self.c.weights, np.zeros(self.n_h)])
        # Just above HiGHS's feasibility tolerance: far below any real difference between two plans.
        return LinearConstraint(a.reshape(1, -1), total - 1e-6 - 1e-9 * abs(total), np.inf)

    def maximise(
        self, objective: np.ndarray, extra: Sequence[LinearConstraint], *, proves: bool = True
    ) -> OptimizeResult:
        """Best solution for `objective`; `proves`: whether plan optimality depends on this stage."""
        remaining = self.deadline - time.perf_counter()
        if remaining <= 0:
            raise PairingError("the pairing time limit ran out before a plan was found")
        result = milp(
            -objective,
            integrality=self.integrality,
            bounds=self.bounds,
            constraints=[*self.base, *extra],
            options={"time_limit": remaining, "mip_rel_gap": _MIP_REL_GAP},
        )
        if result.x is None:
            raise PairingError(f"no feasible plan: {result.message}")
        if proves:
            self.optimal = self.optimal and result.status == 0
        return result

    def x_objective(self, weights: np.ndarray) -> np.ndarray:
        return np.concatenate([weights, np.zeros(self.n_h)])

    def h_objective(self) -> np.ndarray:
        return np.concatenate([np.zeros(self.n_x), np.ones(self.n_h)])


def _dual_bound(
    result: OptimizeResult, model: _Model, objective: np.ndarray, extra: Sequence[LinearConstraint]
) -> float:
    """The solver's proven upper bound on the maximised objective."""
    bound = getattr(result, "mip_dual_bound", None)
    if bound is not None and math.isfinite(bound):
        return -float(bound)
    relaxed = milp(
        -objective,
        integrality=np.zeros_like(model.integrality),
        bounds=model.bounds,
        constraints=[*model.base, *extra],
    )
    return -float(relaxed.fun) if relaxed.fun is not None else float("nan")


def solve(
    problem: PairingProblem,
    *,
    prefer: Collection[Pair] = (),
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> PairingSolution:
    """The best plan for `problem` under its fairness mode.

    Among plans equally good, one keeping the most `prefer` pairs is chosen (a revision then
    changes only what it must). `optimal` is True when HiGHS proved every stage optimal.
    """
    started = time.perf_counter()
    candidates = _candidates(problem)
    if len(candidates) == 0:
        return _solution(
            problem,
            candidates,
            np.zeros(0, dtype=bool),
            method="milp",
            optimal=True,
            bound=0.0,
            started=started,
            status="nothing to pair",
        )
    model = _Model(problem, candidates, deadline=started + time_limit)
    extra: list[LinearConstraint] = []
    if problem.fairness != "none":
        covering_all = model.covering(0.0)
        result = model.maximise(model.h_objective(), [covering_all])
        covered = math.floor(-result.fun + 1e-6)
        threshold = 0.0
        if problem.fairness == "maximin" and covered > 0:
            threshold = _maximin_threshold(model, covered, result)
        extra = [model.covering(threshold), model.at_least_covered(covered)]
    objective = model.x_objective(candidates.weights)
    result = model.maximise(objective, extra)
    bound = _dual_bound(result, model, objective, extra)
    x = result.x
    prefer_mask = np.array(
        [
            (problem.scores.companies[r], problem.scores.providers[c]) in prefer
            for r, c in zip(candidates.rows, candidates.cols, strict=True)
        ],
        dtype=bool,
    )
    if prefer_mask.any() and not np.all(prefer_mask == (x[: model.n_x] > 0.5)):
        total = float(candidates.weights @ x[: model.n_x])
        try:
            stable = model.maximise(
                model.x_objective(prefer_mask.astype(float)), [*extra, model.total_at_least(total)], proves=False
            )
        except PairingError:  # out of time: the optimal plan stands, only less like the previous one
            pass
        else:
            x = stable.x
    chosen = x[: model.n_x] > 0.5
    status = "optimal" if model.optimal else "time limit reached: best plan found"
    return _solution(
        problem, candidates, chosen, method="milp", optimal=model.optimal, bound=bound, started=started, status=status
    )


def _maximin_threshold(model: _Model, covered: int, first: OptimizeResult) -> float:
    """The highest t such that `covered` companies can each get a pair scoring at least t.

    Binary search over the distinct scores; every feasible solution found also proves its own
    worst-off company's best pair feasible, which skips steps (`first` is the coverage stage's).
    """
    weights = model.c.weights
    h_rows = np.array([model.h_of_row[int(r)] for r in model.c.rows])
    best = np.zeros(model.n_h)
    np.maximum.at(best, h_rows, weights)
    ceiling = np.sort(best)[::-1][covered - 1]  # no threshold above the covered-th best company's best pair
    thresholds = np.unique(weights[weights <= ceiling])

    def proven(result: OptimizeResult) -> int:
        chosen = result.x[: model.n_x] > 0.5
        if not chosen.any():
            return 0
        reached = np.full(model.n_h, np.inf)
        reached[np.unique(h_rows[chosen])] = 0.0
        np.maximum.at(reached, h_rows[chosen], weights[chosen])
        worst = reached.min()
        return int(np.searchsorted(thresholds, worst + 1e-12, side="right")) - 1

    low, high = max(0, proven(first)), len(thresholds) - 1
    while low < high:
        middle = (low + high + 1) // 2
        result = model.maximise(model.h_objective(), [model.covering(float(thresholds[middle]))])
        if -result.fun >= covered - _STAGE_TOLERANCE:
            low = max(middle, min(proven(result), high))
        else:
            high = middle - 1
    return float(thresholds[low])


def greedy(problem: PairingProblem) -> PairingSolution:
    """Baseline for comparison: must-pairs, then the best pairs first while limits allow (ignores fairness)."""
    started = time.perf_counter()
    candidates = _candidates(problem)
    order = np.lexsort((candidates.cols, candidates.rows, -candidates.weights, ~candidates.fixed))
    company_left: defaultdict[int, int] = defaultdict(lambda: problem.company_limit())
    provider_left = {j: problem.provider_limit(p) for j, p in enumerate(problem.scores.providers)}
    chosen = np.zeros(len(candidates), dtype=bool)
    for edge in order:
        r, c = int(candidates.rows[edge]), int(candidates.cols[edge])
        if company_left[r] > 0 and provider_left[c] > 0:
            chosen[edge] = True
            company_left[r] -= 1
            provider_left[c] -= 1
    return _solution(
        problem, candidates, chosen, method="greedy", optimal=False, bound=None, started=started, status="greedy"
    )


def _solution(
    problem: PairingProblem,
    candidates: _Candidates,
    chosen: np.ndarray,
    *,
    method: Literal["milp", "greedy"],
    optimal: bool,
    bound: float | None,
    started: float,
    status: str,
) -> PairingSolution:
    companies, providers = problem.scores.companies, problem.scores.providers
    assignments = tuple(
        sorted(
            (
                Assignment(
                    company=companies[r],
                    provider=providers[c],
                    score=round(float(w), 6),
                    locked=bool(f),
                )
                for r, c, w, f in zip(
                    candidates.rows[chosen],
                    candidates.cols[chosen],
                    candidates.weights[chosen],
                    candidates.fixed[chosen],
                    strict=True,
                )
            ),
            key=lambda a: (a.company, a.provider),
        )
    )
    best: dict[int, float] = {}
    for a in assignments:
        best[a.company] = max(best.get(a.company, 0.0), a.score)
    total = round(float(candidates.weights[chosen].sum()), 6)
    gap = None
    if bound is not None:
        bound = round(bound, 6)
        # HiGHS's definition: |primal - dual| / |primal|; below float noise it is 0.
        gap = round(max(0.0, bound - total) / max(abs(total), 1e-9), 9) if bound > 0 else 0.0
    return PairingSolution(
        method=method,
        fairness=problem.fairness,
        assignments=assignments,
        total_score=total,
        covered_companies=len(best),
        unassigned_companies=tuple(c for c in companies if c not in best),
        worst_best_score=min(best.values()) if best else None,
        optimal=optimal,
        bound=bound,
        gap=gap,
        seconds=time.perf_counter() - started,
        variables=len(candidates),
        status=status,
    )


# -- plans and revisions -----------------------------------------------------------------------


def plan_demo_day(
    problem: PairingProblem,
    *,
    previous: PairingPlan | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> PairingPlan:
    """Optimise the pairs, then place them in rounds.

    Without `problem.rounds` the day gets as few rounds as the chosen pairs need (the busiest
    company's demos, or the busiest provider's per table: enough for a bipartite plan, by König).
    """
    prefer = previous.solution.pairs if previous is not None else frozenset()
    solution = solve(problem, prefer=prefer, time_limit=time_limit)
    rounds = problem.rounds if problem.rounds is not None else rounds_needed(solution, tables=problem.tables)
    schedule = schedule_rounds(
        [a.pair for a in solution.assignments],
        rounds=rounds,
        tables=problem.tables,
        weights=[a.score for a in solution.assignments],
        keep=problem.must_pairs,
        previous=previous.schedule if previous is not None else None,
    )
    baseline = greedy(problem)
    return PairingPlan(
        problem=problem,
        solution=solution,
        schedule=schedule,
        greedy_total_score=baseline.total_score,
        greedy_covered_companies=baseline.covered_companies,
    )


def rounds_needed(solution: PairingSolution, *, tables: Mapping[int, int] | int = 1) -> int:
    """The fewest rounds that hold every pair of `solution` (at least 1)."""
    per_company = Counter(a.company for a in solution.assignments)
    per_provider = Counter(a.provider for a in solution.assignments)
    return max([1, *per_company.values(), *(math.ceil(n / tables_for(tables, p)) for p, n in per_provider.items())])


def reoptimise(
    previous: PairingPlan,
    *,
    locks: Collection[Pair] = (),
    removals: Collection[Pair] = (),
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> PairingPlan:
    """The plan after a facilitator locks pairs (they must stay) and removes pairs (never again).

    Earlier locks and removals carry over; removing a locked pair unlocks it. Everything else is
    optimised again, keeping as many of the previous pairs and rounds as an optimal plan allows.
    """
    locks = {(int(c), int(p)) for c, p in locks}
    removals = {(int(c), int(p)) for c, p in removals}
    both = sorted(locks & removals)
    if both:
        raise PairingError(f"pair {both[0]} cannot be locked and removed in one revision")
    problem = replace(
        previous.problem,
        must_pairs=(previous.problem.must_pairs - removals) | locks,
        never_pairs=(previous.problem.never_pairs - locks) | removals,
    )
    return plan_demo_day(problem, previous=previous, time_limit=time_limit)


def changes(before: PairingPlan, after: PairingPlan) -> tuple[tuple[Pair, ...], tuple[Pair, ...]]:
    """(pairs added, pairs dropped) from one plan to the next, sorted."""
    old, new = before.solution.pairs, after.solution.pairs
    return tuple(sorted(new - old)), tuple(sorted(old - new))
