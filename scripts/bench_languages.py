"""Speed cost of the language options, as ratios against all-MiniLM-L6-v2 measured in the same run.

For each model setting: ingest (encode every technology text of the data set as a passage, seconds per
text) and query latency (one need at a time, encoded and ranked with explanations, median per language).

    .venv/bin/python scripts/bench_languages.py ../shared/benchmark/dev [--queries 8] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from pathlib import Path

from matching.encoders.base import DEFAULT_MODEL, E5_MODEL, MULTILINGUAL_MODEL
from matching.encoders.factory import load_encoder
from matching.evaluation.datasets import engine_records, load_dataset
from matching.matcher import Matcher
from matching.retrieval.texts import technology_text

MODELS = (DEFAULT_MODEL, f"{DEFAULT_MODEL}+glossary", MULTILINGUAL_MODEL, E5_MODEL)


def measure(model: str, *, technologies, needs_by_language, queries: int) -> dict:
    started = time.perf_counter()
    encoder = load_encoder(model)
    load_s = time.perf_counter() - started
    matcher = Matcher(encoder)
    texts = [technology_text(t) for t in technologies]
    encoder.encode(texts[:2], kind="passage")  # warm-up: first calls allocate
    started = time.perf_counter()
    vectors = encoder.encode(texts, kind="passage", batch_size=32)
    ingest_s = (time.perf_counter() - started) / len(texts)
    matcher.catalogue.build(technologies=technologies, technology_vectors=vectors, needs=[], need_vectors=vectors[:0])
    latency: dict[str, float] = {}
    for language, needs in sorted(needs_by_language.items()):
        matcher.match(needs[0], k=10)  # warm-up: category vectors, detector models
        times = []
        for need in needs[:queries]:
            started = time.perf_counter()
            matcher.match(need, k=10, explain=True)
            times.append(time.perf_counter() - started)
        latency[language] = statistics.median(times)
    return {"model": model, "load_s": load_s, "ingest_s_per_text": ingest_s, "query_s": latency}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--queries", type=int, default=8, help="needs per language to time")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated settings; the first is the base")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    records = engine_records(load_dataset(args.dataset))
    needs_by_language: dict[str, list] = {}
    for need in records.needs:
        needs_by_language.setdefault(need.lang, []).append(need)
    # Each need is matched as a fresh text (id 0), as an SME's new need would be.
    needs_by_language = {
        lang: [dataclasses.replace(n, id=0) for n in needs] for lang, needs in needs_by_language.items()
    }
    rows = [
        measure(m, technologies=records.technologies, needs_by_language=needs_by_language, queries=args.queries)
        for m in args.models.split(",")
    ]
    base = rows[0]
    for row in rows:
        row["ingest_ratio"] = row["ingest_s_per_text"] / base["ingest_s_per_text"]
        row["query_ratio"] = {k: v / base["query_s"][k] for k, v in row["query_s"].items()}
    if args.json:
        print(json.dumps(rows))
        return
    print(f"{'model':45} {'ingest s/text':>14} {'x MiniLM':>9}  query s (x MiniLM) per need language")
    for row in rows:
        queries = "  ".join(
            f"{lang} {row['query_s'][lang]:.3f} ({row['query_ratio'][lang]:.1f}x)" for lang in sorted(row["query_s"])
        )
        print(f"{row['model']:45} {row['ingest_s_per_text']:14.4f} {row['ingest_ratio']:9.1f}  {queries}")


if __name__ == "__main__":
    main()
