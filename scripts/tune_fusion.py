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

import numpy as np

from matching.datasets import Dataset, load_dataset
from matching.encoder import DEFAULT_MODEL, load_encoder
from matching.engine import MODES, Matcher
from matching.evaluation import evaluate
from matching.ranking import RankingWeights
from matching.text import text_hash
from matching.types import Need, Technology


def engine_records(dataset: Dataset) -> tuple[list[Technology], list[Need], dict[int, str], dict[int, str]]:
    providers = {p.ref: p.name for p in dataset.providers}
    sectors = {c.ref: c.sector for c in dataset.companies}
    technologies = [
        Technology(
            id=i,
            title=t.title,
            description=t.description,
            provider_name=providers.get(t.provider_ref or ""),
            categories=t.categories,
            sectors=t.sectors,
            trl=t.trl,
            price_min_eur=t.price_min_eur,
            price_max_eur=t.price_max_eur,
            languages=t.languages,
            regions_served=t.regions_served,
        )
        for i, t in enumerate(dataset.technologies, start=1)
    ]
    needs = [
        Need(
            id=i,
            title=n.title,
            description=n.description,
            lang=n.lang,
            constraints=n.constraints,
            sector=sectors.get(n.company_ref or ""),
        )
        for i, n in enumerate(dataset.needs, start=1)
    ]
    return (
        technologies,
        needs,
        {i: t.ref for i, t in enumerate(dataset.technologies, start=1)},
        {i: n.ref for i, n in enumerate(dataset.needs, start=1)},
    )


def cached_encode(matcher: Matcher, texts: list[str], kind: str, cache: Path) -> np.ndarray:
    key = text_hash(matcher.encoder.name + kind + "\x00".join(texts))[:16]
    path = cache / f"{key}.npy"
    if path.exists():
        return np.load(path)
    vectors = matcher.encoder.encode(texts, kind=kind, batch_size=32, show_progress=True)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def run(matcher: Matcher, dataset: Dataset, needs, query_vectors, tech_refs, need_refs, mode) -> dict:
    rankings = {}
    for need, vector in zip(needs, query_vectors, strict=True):
        matches = matcher.match(need, k=10, explain=False, mode=mode, query_vector=vector)
        rankings[need_refs[need.id]] = [tech_refs[m.technology_id] for m in matches]
    result = evaluate(rankings, dataset.qrels)
    langs = sorted({n.lang for n in needs})
    if len(langs) > 1:
        for lang in langs:
            subset = {need_refs[n.id] for n in needs if n.lang == lang}
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
    technologies, needs, tech_refs, need_refs = engine_records(dataset)
    matcher = Matcher(load_encoder(args.model))
    cache = Path("var/cache")
    tech_vectors = cached_encode(matcher, [matcher._technologies._to_text(t) for t in technologies], "passage", cache)
    from matching.text import need_text

    query_vectors = cached_encode(matcher, [need_text(n) for n in needs], "query", cache)
    matcher.build(
        technologies=technologies,
        technology_vectors=tech_vectors,
        needs=[],
        need_vectors=np.zeros((0, tech_vectors.shape[1]), np.float32),
    )
    for mode in MODES:
        print(mode, json.dumps(run(matcher, dataset, needs, query_vectors, tech_refs, need_refs, mode)))
    if args.grid:
        results = []
        for dense, tax, sector, penalty, norm in itertools.product(
            (0.4, 0.5, 0.6, 0.7), (0.0, 0.1, 0.2, 0.3), (0.0, 0.05, 0.1), (0.0, 0.1, 0.25), ("minmax", "rrf")
        ):
            matcher.weights = dataclasses.replace(
                RankingWeights(),
                dense=dense,
                lexical=1 - dense,
                taxonomy=tax,
                sector=sector,
                constraint_penalty=penalty,
                normalisation=norm,
            )
            r = run(matcher, dataset, needs, query_vectors, tech_refs, need_refs, "hybrid")
            results.append((r["ndcg@10"], dense, tax, sector, penalty, norm, r))
        for row in sorted(results, key=lambda r: -r[0])[:15]:
            print(row)


if __name__ == "__main__":
    main()
