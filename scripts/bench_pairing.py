"""Measure the demo-day pairing optimiser: speed at 60 x 10 and 1,000 x 200, and quality against greedy.

Times are in seconds and as ratios against baselines measured in the same run on the same score
matrix: the greedy baseline (best pairs first) and scipy's linear_sum_assignment (a one-to-one
assignment, the closest textbook solver). Score matrices are synthetic but shaped like the
engine's: companies and providers share a few topics, each company is scored against its
top-ranked providers only (the rest are 0, no match), scores mostly between 0.2 and 0.9.
With a data set (benchmark format with pairing.json), it also plans that data set from the real
engine's scores and compares the optimal total with greedy's. Not a test; nothing depends on it.

    .venv/bin/python scripts/bench_pairing.py [--dataset ../shared/benchmark/dev] [--json]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from matching.pairing.optimiser import (
    FAIRNESS_MODES,
    PairingProblem,
    ScoreMatrix,
    greedy,
    plan_demo_day,
    solve,
)

SEED = 20240611
SIZES = ((60, 10), (1000, 200))
TOPICS = 20


def synthetic_problem(
    companies: int, providers: int, *, fairness: str, seed: int = SEED, min_score: float = 0.3, dense: bool = False
) -> PairingProblem:
    """A sparse, engine-like score matrix with demo-day limits (3 demos per SME, 6 rounds, 1-3 tables)."""
    rng = np.random.default_rng(seed)
    company_topics = rng.dirichlet(np.full(TOPICS, 0.3), size=companies)
    provider_topics = rng.dirichlet(np.full(TOPICS, 0.3), size=providers)
    affinity = company_topics @ provider_topics.T
    affinity /= np.linalg.norm(company_topics, axis=1)[:, None] * np.linalg.norm(provider_topics, axis=1)[None, :]
    scores = np.clip(0.2 + 0.7 * affinity + rng.normal(0.0, 0.05, affinity.shape), 0.0, 1.0)
    # A company is scored against the providers its needs ranked highly, not against everyone.
    depth = providers if dense else min(providers, max(5, providers // 8))
    keep = np.argsort(-scores, axis=1)[:, :depth]
    sparse_scores = np.zeros_like(scores)
    rows = np.arange(companies)[:, None]
    sparse_scores[rows, keep] = scores[rows, keep]
    provider_ids = tuple(range(1, providers + 1))
    tables = {p: int(rng.integers(1, 4)) for p in provider_ids}
    rounds = 6
    # Slots a little short of demand, as on a real day: some SMEs get fewer demos than they want.
    capacity = {p: int(rng.integers(2, rounds * tables[p] + 1)) for p in provider_ids}
    return PairingProblem(
        scores=ScoreMatrix(companies=tuple(range(1, companies + 1)), providers=provider_ids, values=sparse_scores),
        capacity=capacity,
        max_per_company=3,
        min_score=min_score,
        fairness=fairness,  # type: ignore[arg-type]
        rounds=rounds,
        tables=tables,
    )


def best_of(function: Callable[[], Any], *, repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return min(times), result


def bench_size(companies: int, providers: int, *, repeat: int) -> dict[str, Any]:
    rows: dict[str, Any] = {"companies": companies, "providers": providers}
    problem = synthetic_problem(companies, providers, fairness="none")
    values = problem.scores.values
    greedy_seconds, baseline = best_of(lambda: greedy(problem), repeat=repeat)
    lsa_seconds, _ = best_of(lambda: linear_sum_assignment(values, maximize=True), repeat=repeat)
    rows["nonzero_scores"] = int(np.count_nonzero(values))
    rows["baseline_seconds"] = {"greedy": round(greedy_seconds, 6), "linear_sum_assignment": round(lsa_seconds, 6)}
    rows["greedy_total_score"] = round(baseline.total_score, 4)
    rows["greedy_covered"] = baseline.covered_companies
    for fairness in FAIRNESS_MODES:
        fair = synthetic_problem(companies, providers, fairness=fairness)
        seconds, plan = best_of(lambda fair=fair: plan_demo_day(fair), repeat=repeat)
        solution = plan.solution
        rows[fairness] = {
            "seconds": round(seconds, 4),
            "solve_seconds": round(solution.seconds, 4),
            "vs_greedy": round(seconds / greedy_seconds, 1),
            "vs_linear_sum_assignment": round(seconds / lsa_seconds, 1),
            "variables": solution.variables,
            "optimal": solution.optimal,
            "gap": solution.gap,
            "total_score": round(solution.total_score, 4),
            "bound": solution.bound,
            "pairs": len(solution.assignments),
            "covered": solution.covered_companies,
            "worst_best_score": solution.worst_best_score,
            "unscheduled": len(plan.schedule.unscheduled),
        }
    return rows


def bench_pruning(companies: int, providers: int, *, repeat: int) -> dict[str, Any]:
    """A dense matrix (every pair scored): how much pruning below min_score saves."""
    rows: dict[str, Any] = {"companies": companies, "providers": providers}
    for min_score in (0.0, 0.5, 0.6):
        problem = synthetic_problem(companies, providers, fairness="none", min_score=min_score, dense=True)
        seconds, solution = best_of(lambda problem=problem: solve(problem), repeat=repeat)
        rows[f"min_score={min_score}"] = {
            "seconds": round(seconds, 4),
            "variables": solution.variables,
            "optimal": solution.optimal,
            "total_score": round(solution.total_score, 4),
        }
    return rows


def bench_dataset(directory: Path, *, model: str) -> dict[str, Any]:
    """Optimal vs greedy on a data set's pairing.json, with the engine's scores (embeddings cached in var/cache)."""
    from benchlib import engine_for

    from matching.evaluation.datasets import load_dataset
    from matching.pairing.optimiser import company_provider_scores

    dataset = load_dataset(directory)
    if not dataset.pairing:
        raise SystemExit(f"{directory} has no pairing.json")
    engine = engine_for(dataset, model=model)
    matcher, technologies, needs = engine.matcher, engine.records.technologies, engine.records.needs
    query_vectors, provider_id = engine.query_vectors, engine.records.provider_ids
    started = time.perf_counter()
    scores = company_provider_scores(matcher, needs=needs, technologies=technologies, query_vectors=query_vectors)
    scoring_seconds = time.perf_counter() - started
    capacity = {provider_id[ref]: int(n) for ref, n in dataset.pairing["capacity"].items()}
    result: dict[str, Any] = {
        "dataset": dataset.name,
        "model": matcher.encoder.name,
        "companies": len(scores.companies),
        "providers": len(scores.providers),
        "max_per_company": int(dataset.pairing["max_per_company"]),
        "scoring_seconds": round(scoring_seconds, 2),
    }
    for fairness in FAIRNESS_MODES:
        problem = PairingProblem(
            scores=scores,
            capacity={p: capacity.get(p, 0) for p in scores.providers},
            max_per_company=int(dataset.pairing["max_per_company"]),
            fairness=fairness,  # type: ignore[arg-type]
        )
        plan = plan_demo_day(problem)
        baseline = greedy(problem)
        result[fairness] = {
            "total_score": round(plan.solution.total_score, 4),
            "greedy_total_score": round(baseline.total_score, 4),
            "gain_over_greedy": round(plan.solution.total_score - baseline.total_score, 4),
            "gain_percent": round(100 * (plan.solution.total_score / baseline.total_score - 1), 2)
            if baseline.total_score
            else None,
            "optimal": plan.solution.optimal,
            "bound": plan.solution.bound,
            "pairs": len(plan.solution.assignments),
            "greedy_pairs": len(baseline.assignments),
            "covered": plan.solution.covered_companies,
            "greedy_covered": baseline.covered_companies,
            "worst_best_score": plan.solution.worst_best_score,
            "greedy_worst_best_score": baseline.worst_best_score,
            "rounds": plan.schedule.rounds,
            "seconds": round(plan.solution.seconds, 4),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, help="a data set with pairing.json, e.g. ../shared/benchmark/dev")
    parser.add_argument("--model", default="all-MiniLM-L6-v2", help="encoder for the data set's scores")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing; the best is reported")
    parser.add_argument("--json", action="store_true", help="one JSON object on the last line")
    args = parser.parse_args()
    report: dict[str, Any] = {
        "seed": SEED,
        "sizes": [bench_size(n, p, repeat=args.repeat) for n, p in SIZES],
        "pruning": bench_pruning(*SIZES[-1], repeat=args.repeat),
    }
    if args.dataset is not None:
        report["dataset"] = bench_dataset(args.dataset, model=args.model)
    if args.json:
        print(json.dumps(report))
        return
    for size in report["sizes"]:
        print(f"{size['companies']} SMEs x {size['providers']} providers ({size['nonzero_scores']} scored pairs)")
        base = size["baseline_seconds"]
        print(
            f"  baselines: greedy {base['greedy']:.6f} s, linear_sum_assignment {base['linear_sum_assignment']:.6f} s"
        )
        for fairness in FAIRNESS_MODES:
            row = size[fairness]
            print(
                f"  {fairness:9} plan {row['seconds']:.3f} s (x{row['vs_greedy']} greedy, "
                f"x{row['vs_linear_sum_assignment']} LSA), total {row['total_score']:.3f} "
                f"(greedy {size['greedy_total_score']:.3f}), optimal={row['optimal']}, covered {row['covered']}"
            )
    pruning = report["pruning"]
    print(f"dense {pruning['companies']} x {pruning['providers']} (every pair scored), no fairness:")
    for key, row in pruning.items():
        if key.startswith("min_score"):
            print(f"  {key}: {row['variables']} variables, {row['seconds']:.3f} s, optimal={row['optimal']}")
    if "dataset" in report:
        data = report["dataset"]
        print(f"{data['dataset']}: {data['companies']} SMEs x {data['providers']} providers, {data['model']}")
        for fairness in FAIRNESS_MODES:
            row = data[fairness]
            print(
                f"  {fairness:9} optimal {row['total_score']:.4f} vs greedy {row['greedy_total_score']:.4f} "
                f"({row['gain_percent']:+.2f}%), covered {row['covered']} vs {row['greedy_covered']}"
            )


if __name__ == "__main__":
    main()
