"""Shared by the measurement scripts: a data set in an engine, with embeddings cached on disk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from matching.encoders.base import TextKind
from matching.encoders.factory import load_encoder
from matching.evaluation.datasets import Dataset, EngineRecords, engine_records
from matching.matcher import Matcher
from matching.retrieval.texts import need_text, technology_text, text_hash

CACHE = Path("var/cache")


def cached_encode(matcher: Matcher, texts: list[str], kind: TextKind) -> np.ndarray:
    """Encode once per (model, kind, texts); later runs read var/cache/<hash>.npy."""
    path = CACHE / f"{text_hash(matcher.encoder.name + kind + chr(0).join(texts))[:16]}.npy"
    if path.exists():
        return np.load(path)
    vectors = matcher.encoder.encode(texts, kind=kind, batch_size=32, show_progress=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


@dataclass(frozen=True, slots=True)
class LoadedEngine:
    matcher: Matcher
    records: EngineRecords
    query_vectors: np.ndarray


def engine_for(dataset: Dataset, *, model: str) -> LoadedEngine:
    """A Matcher holding the data set's technologies and needs, plus each need's query vector."""
    records = engine_records(dataset)
    matcher = Matcher(load_encoder(model))
    need_texts = [need_text(n) for n in records.needs]
    matcher.catalogue.build(
        technologies=records.technologies,
        technology_vectors=cached_encode(matcher, [technology_text(t) for t in records.technologies], "passage"),
        needs=records.needs,
        need_vectors=cached_encode(matcher, need_texts, "passage"),
    )
    return LoadedEngine(matcher=matcher, records=records, query_vectors=cached_encode(matcher, need_texts, "query"))
