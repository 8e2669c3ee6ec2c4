"""How the default ranking weights, calibration and nothing-fits threshold were chosen: engine only, no database.

Embeddings are cached under var/cache/ so repeated runs skip encoding; `techmatch eval` is the
end-to-end measurement.

    # quality of each mode with the defaults, on one or more data sets
    .venv/bin/python scripts/tune_fusion.py data/demo ../shared/benchmark/dev
    # grid search of the evidence weights; ranked by the mean nDCG@10 over the data sets given
    .venv/bin/python scripts/tune_fusion.py data/demo ../shared/benchmark/dev --grid
    # the calibration fitted on the first data set's labels (DEFAULT_CALIBRATION comes from data/demo)
    .venv/bin/python scripts/tune_fusion.py data/demo --calibrate
    # nothing-fits recall and false nothing-fits per threshold, on data sets with an offtopic.txt
    .venv/bin/python scripts/tune_fusion.py data/demo --thresholds
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
from pathlib import Path

from benchlib import LoadedEngine, engine_for

from matching.encoders.names import GLOSSARY_MODEL
from matching.evaluation.datasets import Dataset, load_dataset
from matching.evaluation.metrics import evaluate, nothing_fits
from matching.learning.calibration import dataset_evidence
from matching.learning.evaluation import LoadedDataset
from matching.ranking.bands import fit_of
from matching.ranking.features import MODES, Mode
from matching.ranking.fusion import RankingWeights


def rankings(engine: LoadedEngine, mode: Mode = "hybrid", k: int = 10) -> dict[str, list[tuple[str, float]]]:
    refs = engine.records
    out = {}
    for need, vector in zip(refs.needs, engine.query_vectors, strict=True):
        matches = engine.matcher.match(need, k=k, explain=False, mode=mode, query_vector=vector)
        out[refs.need_refs[need.id]] = [(refs.technology_refs[m.technology_id], m.score) for m in matches]
    return out


def quality(engine: LoadedEngine, dataset: Dataset, mode: Mode) -> dict[str, float]:
    ranked = rankings(engine, mode)
    return evaluate({q: [t for t, _ in r] for q, r in ranked.items()}, dataset.qrels)


def grid(engines: list[tuple[LoadedEngine, Dataset]]) -> None:
    results = []
    for lexical, power, taxonomy, sector, penalty in itertools.product(
        (1.0, 1.5, 2.0, 2.5, 3.0), (0.35, 0.5, 0.7, 1.0), (0.05, 0.1, 0.15), (0.05, 0.1, 0.15), (0.1, 0.25)
    ):
        weights = dataclasses.replace(
            RankingWeights(),
            lexical=lexical,
            lexical_power=power,
            taxonomy=taxonomy,
            sector=sector,
            constraint_penalty=penalty,
        )
        scores = []
        for engine, dataset in engines:
            engine.matcher.weights = weights
            scores.append(quality(engine, dataset, "hybrid")["ndcg@10"])
        results.append((round(sum(scores) / len(scores), 4), scores, lexical, power, taxonomy, sector, penalty))
    for row in sorted(results, key=lambda r: -r[0])[:15]:
        print(json.dumps(row))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("datasets", type=Path, nargs="+")
    parser.add_argument("--model", default=GLOSSARY_MODEL)
    parser.add_argument("--grid", action="store_true", help="search the evidence weights")
    parser.add_argument("--calibrate", action="store_true", help="fit the calibration on the first data set")
    parser.add_argument("--thresholds", action="store_true", help="nothing-fits figures per threshold")
    args = parser.parse_args()
    engines = []
    for path in args.datasets:
        dataset = load_dataset(path)
        engines.append((engine_for(dataset, model=args.model), dataset))
    for engine, dataset in engines:
        for mode in MODES:
            print(dataset.name, mode, json.dumps(quality(engine, dataset, mode)))
    if args.grid:
        grid(engines)
    if args.calibrate:
        engine, dataset = engines[0]
        loaded = LoadedDataset(
            matcher=engine.matcher,
            records=engine.records,
            query_vectors=dict(zip((n.id for n in engine.records.needs), engine.query_vectors, strict=True)),
            qrels=dataset.qrels,
        )
        labelled = dataset_evidence(loaded)
        print("calibration", json.dumps(labelled.fit().as_dict()), "pairs", len(labelled.evidence))
    if args.thresholds:
        for engine, dataset in engines:
            ranked = rankings(engine)
            for threshold in (0.05, 0.08, 0.1, 0.11, 0.12, 0.13, 0.14, 0.15, 0.2, 0.25, 0.3, 0.4):
                verdicts = {q: fit_of([s for _, s in r], threshold=threshold) for q, r in ranked.items()}
                figures = nothing_fits(verdicts, offtopic=dataset.offtopic, qrels=dataset.qrels)
                print(dataset.name, "threshold", threshold, json.dumps(figures))


if __name__ == "__main__":
    main()
