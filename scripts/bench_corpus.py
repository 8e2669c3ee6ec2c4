"""Synthetic catalogues for the speed benchmarks: demo sentences recombined, and clustered unit vectors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from matching.evaluation.datasets import Dataset, ProviderRecord, TechnologyRecord, load_dataset
from matching.retrieval.texts import split_sentences
from matching.types import CATEGORIES, SECTORS

DEMO = Path(__file__).resolve().parent.parent / "data" / "demo"


def _demo() -> Dataset:
    return load_dataset(DEMO)


def synthetic_dataset(count: int, *, seed: int = 0, providers: int = 50) -> Dataset:
    """`count` technology offers whose texts recombine the demo catalogue's sentences.

    Each offer takes a demo title and three to six sentences drawn from all demo descriptions, so
    vocabulary and length are those of real offers while every text (and its hash) is distinct.
    """
    demo = _demo()
    rng = np.random.default_rng(seed)
    sentences = [s for t in demo.technologies for s in split_sentences(t.description)]
    titles = [t.title for t in demo.technologies]
    provider_rows = [ProviderRecord(ref=f"bench-p{i}", name=f"Bench provider {i}") for i in range(providers)]
    technologies = []
    for i in range(count):
        picks = rng.choice(len(sentences), size=int(rng.integers(3, 7)), replace=False)
        technologies.append(
            TechnologyRecord(
                ref=f"bench-t{i}",
                provider_ref=f"bench-p{i % providers}",
                title=f"{titles[int(rng.integers(len(titles)))]} (offer {i})",
                description=" ".join(sentences[int(p)] for p in picks),
                categories=tuple(rng.choice(CATEGORIES, size=2, replace=False).tolist()),
                sectors=(str(rng.choice(SECTORS)),),
                trl=int(rng.integers(4, 10)),
                languages=("en",),
            )
        )
    return Dataset(
        name="bench",
        format="benchmark",
        providers=provider_rows,
        technologies=technologies,
        companies=[],
        needs=[],
        qrels={},
    )


def query_texts(count: int, *, seed: int = 1) -> list[str]:
    """Need descriptions in English: demo needs' first sentences, each with a distinct detail."""
    demo = _demo()
    english = [n for n in demo.needs if n.lang == "en"] or demo.needs
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        need = english[int(rng.integers(len(english)))]
        first = (split_sentences(need.description) or [need.description])[:2]
        out.append(f"{need.title}. {' '.join(first)} Site {i}.")
    return out


def clustered_chunks(
    count: int,
    *,
    dimension: int = 384,
    chunk: int = 50_000,
    centres: int = 1000,
    spread: float = 1.0,
    seed: int = 0,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(ids, vectors) chunks of a normalised mixture of Gaussians, the same on every call.

    Generated chunk by chunk so that neither the index build nor the exact ground truth ever holds
    more than one chunk beside the index.
    """
    means = np.random.default_rng(seed).normal(size=(centres, dimension)).astype(np.float32)
    for number, start in enumerate(range(0, count, chunk)):
        size = min(chunk, count - start)
        rng = np.random.default_rng([seed, number + 1])
        # float32 throughout: a float64 temporary would double what the chunk costs.
        points = rng.standard_normal(size=(size, dimension), dtype=np.float32)
        points *= spread
        points += means[rng.integers(0, centres, size)]
        points /= np.linalg.norm(points, axis=1, keepdims=True)
        yield np.arange(start, start + size, dtype=np.int64), points


def clustered_queries(
    count: int, *, dimension: int = 384, centres: int = 1000, spread: float = 1.0, seed: int = 0
) -> np.ndarray:
    """Queries from the same mixture as `clustered_chunks` (same means), not among its points."""
    means = np.random.default_rng(seed).normal(size=(centres, dimension)).astype(np.float32)
    rng = np.random.default_rng([seed, 0])
    points = means[rng.integers(0, centres, count)] + rng.normal(scale=spread, size=(count, dimension))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    return points.astype(np.float32)
