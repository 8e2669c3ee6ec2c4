"""The two vector backends side by side on the same vectors: FAISS in process against pgvector's HNSW.

Both get the same clustered unit vectors and queries; each is scored by recall@10 against the exact
top 10 (numpy), mean latency of one single-query search as the service makes it (FAISS: one
`VectorIndex.search`; pgvector: one `PgVectorIndex.search`, a pooled connection, the ef_search setting
and the query), build time, and memory (FAISS: resident memory the index added to this process;
pgvector: the sizes of the table and of its HNSW index, which the server keeps in its buffers).

The database must be empty and throw-away (`scripts/test-postgres.sh --run` gives one):
    bash scripts/test-postgres.sh --run .venv/bin/python scripts/bench_backends.py 100000
Usage: python scripts/bench_backends.py COUNT [--queries N] [--database-url URL]; prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from bench_corpus import clustered_chunks, clustered_queries
from bench_index import rss_mb
from sqlalchemy import create_engine, text

from app.indexing.pgvector import (
    HNSW_EF_CONSTRUCTION,
    HNSW_EF_SEARCH,
    HNSW_M,
    PgVectorIndex,
    create_vector_tables,
    hnsw_index_name,
    hnsw_index_sql,
    vector_table,
)
from matching.retrieval.vector_index import VectorIndex, training_size

DIMENSION = 384
K = 10
# HNSW builds fastest with its graph in memory; PostgreSQL's default (64 MB) is too small at 100,000
# vectors, and an operator sets it for the build (docs/backends.md).
MAINTENANCE_WORK_MEM = "1GB"


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=True)]))


def faiss_side(vectors: np.ndarray, queries: np.ndarray, truth: np.ndarray) -> dict[str, object]:
    before = rss_mb()
    started = time.perf_counter()
    sample = vectors[: training_size(len(vectors))]
    index = VectorIndex.for_size(DIMENSION, count=len(vectors), sample=sample)
    index.upsert(np.arange(len(vectors), dtype=np.int64), vectors)
    build_s = time.perf_counter() - started
    added_mb = rss_mb() - before
    found = np.zeros((len(queries), K), dtype=np.int64)
    started = time.perf_counter()
    for row, query in enumerate(queries):
        found[row] = index.search(query, K)[1][0]
    search_ms = (time.perf_counter() - started) / len(queries) * 1000
    return {
        "kind": index.kind,
        "build_s": round(build_s, 2),
        "recall_at_10": round(recall(found, truth), 4),
        "search_ms_per_query": round(search_ms, 3),
        "index_rss_mb": round(added_mb, 1),
    }


def pgvector_side(url: str, vectors: np.ndarray, queries: np.ndarray, truth: np.ndarray) -> dict[str, object]:
    engine = create_engine(url)
    table = vector_table("technologies").name
    with engine.begin() as connection:
        if connection.execute(text("SELECT to_regclass('technologies')")).scalar() is not None:
            raise SystemExit("bench_backends: the database has a technologies table; give it an empty one")
        # Only the ids the vector tables' foreign keys point at: the rest of the schema plays no part.
        connection.execute(text("CREATE TABLE technologies (id BIGINT PRIMARY KEY)"))
        connection.execute(text("CREATE TABLE needs (id BIGINT PRIMARY KEY)"))
        connection.execute(text("INSERT INTO technologies SELECT generate_series(0, :n - 1)"), {"n": len(vectors)})
        create_vector_tables(connection)
    index = PgVectorIndex(engine, side="technologies", model="bench", dimension=DIMENSION)
    started = time.perf_counter()
    for start in range(0, len(vectors), 10_000):
        part = vectors[start : start + 10_000]
        index.upsert(np.arange(start, start + len(part), dtype=np.int64), part)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(text(f"SET LOCAL maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'"))
        connection.execute(text(hnsw_index_sql(table, dimension=DIMENSION)))
    build_s = time.perf_counter() - started
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"VACUUM ANALYZE {table}"))
        table_mb = connection.execute(text(f"SELECT pg_table_size('{table}')")).scalar_one() / 2**20
        index_mb = (
            connection.execute(
                text(f"SELECT pg_relation_size('{hnsw_index_name(table, dimension=DIMENSION)}')")
            ).scalar_one()
            / 2**20
        )
        server = connection.execute(text("SHOW server_version")).scalar_one()
        extension = connection.execute(text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")).scalar()
        # The plan must use the index, or the figures are those of a sequential scan.
        plan = "\n".join(
            connection.execute(
                text(
                    f"EXPLAIN SELECT id FROM {table} WHERE vector_dims(embedding) = {DIMENSION} "
                    f"ORDER BY (embedding::vector({DIMENSION})) <#> CAST(:q AS vector) LIMIT {K}"
                ),
                {"q": "[" + ",".join(["0"] * DIMENSION) + "]"},
            ).scalars()
        )
    # One pass to bring the index into the server's buffers, as a serving database holds it.
    for query in queries[:20]:
        index.search(query, K)
    found = np.zeros((len(queries), K), dtype=np.int64)
    started = time.perf_counter()
    for row, query in enumerate(queries):
        found[row] = index.search(query, K)[1][0]
    search_ms = (time.perf_counter() - started) / len(queries) * 1000
    engine.dispose()
    return {
        "kind": index.kind,
        "server": f"PostgreSQL {server}, pgvector {extension}",
        "m": HNSW_M,
        "ef_construction": HNSW_EF_CONSTRUCTION,
        "ef_search": HNSW_EF_SEARCH,
        "maintenance_work_mem": MAINTENANCE_WORK_MEM,
        "uses_hnsw_index": "hnsw" in plan,
        "load_s": round(load_s, 2),
        "build_s": round(build_s, 2),
        "recall_at_10": round(recall(found, truth), 4),
        "search_ms_per_query": round(search_ms, 3),
        "table_mb": round(table_mb, 1),
        "index_mb": round(index_mb, 1),
    }


def run(count: int, *, url: str, queries: int) -> dict[str, object]:
    centres = min(1000, max(10, count // 100))
    vectors = np.concatenate([v for _, v in clustered_chunks(count, dimension=DIMENSION, centres=centres)])
    query_vectors = clustered_queries(queries, dimension=DIMENSION, centres=centres)
    scores = query_vectors @ vectors.T
    truth = np.argsort(-scores, axis=1)[:, :K]
    del scores
    return {
        "count": count,
        "dimension": DIMENSION,
        "queries": queries,
        "raw_vector_mb": round(vectors.nbytes / 2**20, 1),
        "faiss": faiss_side(vectors, query_vectors, truth),
        "pgvector": pgvector_side(url, vectors, query_vectors, truth),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("count", type=int)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TECHMATCH_TEST_DATABASE_URL"),
        help="an empty PostgreSQL database with pgvector (default: $TECHMATCH_TEST_DATABASE_URL)",
    )
    args = parser.parse_args()
    if not args.database_url:
        parser.error("no database: give --database-url or run under scripts/test-postgres.sh --run")
    print(json.dumps(run(args.count, url=args.database_url, queries=args.queries)))


if __name__ == "__main__":
    main()
