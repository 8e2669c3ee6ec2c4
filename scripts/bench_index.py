"""Index scale case, run in its own process so its peak RSS is the index's: build, recall, search, edits.

Usage: python scripts/bench_index.py COUNT [--threshold N] [--chunk N] [--queries N]; prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np
from bench_corpus import clustered_chunks, clustered_queries

from matching.retrieval.vector_index import ANN_THRESHOLD, VectorIndex, training_size

DIMENSION = 384
# Vectors generated and added at a time (15 MB at 384 dimensions): what a streaming build holds
# beside the index.
CHUNK = 10_000


def rss_mb() -> float:
    """Current resident set size (Linux /proc), in MiB."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    """Peak resident set size of this process image (VmHWM), in MiB.

    Not `ru_maxrss`: Linux keeps that across exec, so a run started by a large parent (the whole
    suite in `bench.py`) reported the parent's peak instead of its own.
    """
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def exact_top(queries: np.ndarray, *, count: int, chunk: int, centres: int, k: int = 10) -> np.ndarray:
    """Exact top-k ids by streaming the chunks again (the ground truth never holds the whole set)."""
    best_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_ids = np.full((len(queries), k), -1, dtype=np.int64)
    for ids, vectors in clustered_chunks(count, dimension=DIMENSION, chunk=chunk, centres=centres):
        scores = queries @ vectors.T
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        merged_scores = np.concatenate([best_scores, np.take_along_axis(scores, top, 1)], axis=1)
        merged_ids = np.concatenate([best_ids, ids[top]], axis=1)
        order = np.argsort(-merged_scores, axis=1)[:, :k]
        best_scores = np.take_along_axis(merged_scores, order, 1)
        best_ids = np.take_along_axis(merged_ids, order, 1)
    return best_ids


def per_query_ms(index: VectorIndex, queries: np.ndarray, k: int = 10) -> tuple[float, np.ndarray]:
    """Mean time of one single-query search (what a request does), and the ids found."""
    found = np.zeros((len(queries), k), dtype=np.int64)
    start = time.perf_counter()
    for row, query in enumerate(queries):
        found[row] = index.search(query, k)[1][0]
    return (time.perf_counter() - start) / len(queries) * 1000, found


def run(count: int, *, threshold: int, chunk: int, queries: int) -> dict[str, object]:
    # About 100 vectors per mixture component up to 1,000 components (a quick run stays clustered).
    centres = min(1000, max(10, count // 100))
    raw_mb = count * DIMENSION * 4 / 2**20
    baseline_rss = rss_mb()
    started = time.perf_counter()
    # The k-means sample is the stream's first vectors, read in a first pass and let go before the
    # second pass adds every chunk: memory holds the sample or the index and one chunk, never both.
    wanted = training_size(count) if count > threshold else 0
    parts = []
    for _, vectors in clustered_chunks(count, dimension=DIMENSION, chunk=chunk, centres=centres):
        if sum(len(p) for p in parts) >= wanted:
            break
        parts.append(vectors[: wanted - sum(len(p) for p in parts)].copy())
        del vectors
    sample = np.concatenate(parts) if parts else np.zeros((0, DIMENSION), dtype=np.float32)
    del parts
    index = VectorIndex.for_size(DIMENSION, count=count, sample=sample, ann_threshold=threshold)
    del sample
    trained = time.perf_counter()
    for ids, vectors in clustered_chunks(count, dimension=DIMENSION, chunk=chunk, centres=centres):
        index.upsert(ids, vectors)
        del vectors
    build_s = time.perf_counter() - started
    peak_mb = peak_rss_mb()
    query_vectors = clustered_queries(queries, dimension=DIMENSION, centres=centres)
    search_ms, found = per_query_ms(index, query_vectors)
    truth = exact_top(query_vectors, count=count, chunk=chunk, centres=centres)
    recall = float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)]))
    # Exact search time on the same vectors, for the threshold: a flat index over the first chunk
    # scaled by size would flatter it, so time a flat index of min(count, 100k) vectors directly.
    flat_count = min(count, 100_000)
    flat = VectorIndex(DIMENSION, ann_threshold=10**9)
    for ids, vectors in clustered_chunks(flat_count, dimension=DIMENSION, chunk=chunk, centres=centres):
        flat.upsert(ids, vectors)
    flat_ms, _ = per_query_ms(flat, query_vectors[:50])
    del flat
    # Edits on the large index: remove 1,000 ids, move 100 ids onto other vectors.
    removed = np.arange(0, 1000, dtype=np.int64) * (count // 1000)
    t0 = time.perf_counter()
    removed_count = index.remove(removed)
    remove_ms = (time.perf_counter() - t0) * 1000
    hits_after_remove = int(np.isin(index.search(query_vectors, 10)[1], removed).sum())
    moved = removed[:100]
    t0 = time.perf_counter()
    index.upsert(moved, query_vectors[:100])
    update_ms = (time.perf_counter() - t0) * 1000
    top_after_update = index.search(query_vectors[:100], 1)[1][:, 0]
    return {
        "count": count,
        "kind": index.kind,
        "threshold": threshold,
        "centres": centres,
        "nlist": int(getattr(index._index, "nlist", 0)),
        "nprobe": int(getattr(index._index, "nprobe", 0)),
        "build_s": round(build_s, 2),
        "train_s": round(trained - started, 2),
        "recall_at_10": round(recall, 4),
        "search_ms_per_query": round(search_ms, 3),
        "exact_search_ms_per_query": round(flat_ms, 3),
        "exact_search_count": flat_count,
        "raw_vector_mb": round(raw_mb, 1),
        "rss_before_mb": round(baseline_rss, 1),
        "peak_rss_mb": round(peak_mb, 1),
        "peak_rss_ratio": round(peak_mb / raw_mb, 3),
        "index_rss_ratio": round((peak_mb - baseline_rss) / raw_mb, 3),
        "remove_1000_ms": round(remove_ms, 1),
        "removed": removed_count,
        "removed_found_after": hits_after_remove,
        "update_100_ms": round(update_ms, 1),
        "updated_found_first": int((top_after_update == moved).sum()),
        "size_after_edits": len(index),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("count", type=int)
    parser.add_argument("--threshold", type=int, default=ANN_THRESHOLD)
    parser.add_argument("--chunk", type=int, default=0, help=f"vectors per chunk (default {CHUNK:,})")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    chunk = args.chunk or CHUNK
    print(json.dumps(run(args.count, threshold=args.threshold, chunk=chunk, queries=args.queries)))


if __name__ == "__main__":
    main()
