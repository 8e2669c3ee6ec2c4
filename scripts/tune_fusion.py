"""Measure ranking quality of the engine alone (no database) for a grid of fusion weights.

Embeddings are cached under var/cache/ so repeated runs skip encoding. This is how the default
RankingWeights were chosen; `techmatch eval` is the end-to-end measurement.

    .venv/bin/python scripts/tune_fusion.py ../shared/benchmark/dev [--grid]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
from pathlib import Path

from benchlib import LoadedEngine, engine_for

from matching.encoders.base import DEFAULT_MODEL
from matching.evaluation.datasets import Dataset, load_dataset
from matching.evaluation.metrics import evaluate
from matching.ranking.features import MODES, Mode
from matching.ranking.fusion import RankingWeights


def run(engine: LoadedEngine, dataset: Dataset, mode: Mode) -> dict:
    needs, refs = engine.records.needs, engine.records
    rankings = {}
    for need, vector in zip(needs, engine.query_vectors, strict=True):
        matches = engine.matcher.match(need, k=10, explain=False, mode=mode, query_vector=vector)
        rankings[refs.need_refs[need.id]] = [refs.technology_refs[m.technology_id] for m in matches]
    result = evaluate(rankings, dataset.qrels)
    langs = sorted({n.lang for n in needs})
    if len(langs) > 1:
        for lang in langs:
            subset = {refs.need_refs[n.id] for n in needs if n.lang == lang}
            result[f"ndcg@10[{lang}]"] = evaluate(
                {q: r for q, r in rankings.items() if q in subset},
                {q: r for q, r in dataset.qrels.items() if q in subset},
            )["ndcg@10"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--grid", action="store_true", help="search fusion weights")
    args = parser.parse_args()
    dataset = load_dataset(args.dataset)
    engine = engine_for(dataset, model=args.model)
    for mode in MODES:
        print(mode, json.dumps(run(engine, dataset, mode)))
    if args.grid:
        results = []
        for dense, tax, sector, penalty, norm in itertools.product(
            (0.4, 0.5, 0.6, 0.7), (0.0, 0.1, 0.2, 0.3), (0.0, 0.05, 0.1), (0.0, 0.1, 0.25), ("minmax", "rrf")
        ):
            engine.matcher.weights = dataclasses.replace(
                RankingWeights(),
                dense=dense,
                lexical=1 - dense,
                taxonomy=tax,
                sector=sector,
                constraint_penalty=penalty,
                normalisation=norm,
            )
            r = run(engine, dataset, "hybrid")
            results.append((r["ndcg@10"], dense, tax, sector, penalty, norm, r))
        for row in sorted(results, key=lambda r: -r[0])[:15]:
            print(row)


if __name__ == "__main__":
    main()
