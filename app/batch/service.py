"""The batch jobs' driver side: what to do, read from the database; the work on Ray; results written back in
chunks, each in its own transaction, so a job stopped halfway keeps what it wrote and a rerun does the rest."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from app.batch.repository import BatchRepository, components_of
from app.batch.workers import Batch, EncodeBatch, ScoreBatch, ScoringCatalogue
from app.catalogue.records import all_need_records, all_technology_records
from app.core.database import unit_of_work
from app.indexing.repository import EmbeddingStore
from app.learning.service import current_model, default_calibration
from matching.encoders.names import GLOSSARY_MODEL, Precision
from matching.ranking.calibration import DEFAULT_CALIBRATION
from matching.retrieval.texts import need_text, technology_text, text_hash

logger = logging.getLogger(__name__)

# Rows a job asks Ray for per actor call; results are written as they arrive.
ENCODE_BATCH = 256
SCORE_BATCH = 64

Progress = Callable[[int], None]
# Runs `worker(**options)` over the columns' rows in an actor pool; yields output blocks (app.batch.cluster).
Mapper = Callable[..., Iterator[Batch]]


@dataclass
class JobReport:
    """What a job read, did and wrote, for `--json` (one object on the last line)."""

    job: str
    model: str
    ray_address: str
    actors: int
    read: int = 0
    todo: int = 0
    written: int = 0
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        rate = self.todo / self.seconds if self.seconds > 0 else 0.0
        return {
            "job": self.job,
            "model": self.model,
            "ray_address": self.ray_address,
            "actors": self.actors,
            "read": self.read,
            "todo": self.todo,
            "written": self.written,
            "seconds": round(self.seconds, 3),
            "per_second": round(rate, 2),
            **self.extra,
        }


@dataclass(frozen=True, slots=True)
class PoolOptions:
    address: str
    actors: int
    cpus_per_actor: float

    @property
    def threads(self) -> int:
        return max(1, math.floor(self.cpus_per_actor))


def missing_texts(session: Session, *, model: str, dimension: int) -> tuple[int, list[tuple[str, str]]]:
    """(stored texts read, the distinct (hash, text) pairs without a vector of this model), shortest first."""
    texts = [technology_text(t) for t in all_technology_records(session)]
    texts += [need_text(n) for n in all_need_records(session)]
    by_hash = {text_hash(t): t for t in texts}
    cached = BatchRepository(session).cached_hashes(model=model, dimension=dimension, text_hashes=by_hash.keys())
    missing = [(digest, t) for digest, t in by_hash.items() if digest not in cached]
    # Similar lengths in one model batch pad little (app/indexing/embeddings.py does the same).
    missing.sort(key=lambda item: len(item[1]))
    return len(texts), missing


def encode_missing(
    factory: sessionmaker[Session],
    *,
    model: str,
    dimension: int,
    precision: Precision,
    pool: PoolOptions,
    mapper: Mapper,
    batch_size: int = ENCODE_BATCH,
    on_total: Progress | None = None,
    on_written: Progress | None = None,
) -> JobReport:
    """Encode every stored text that has no vector for `model`, on the actor pool; store each as it comes."""
    started = time.perf_counter()
    report = JobReport(job="encode", model=model, ray_address=pool.address, actors=pool.actors)
    with unit_of_work(factory) as session:
        report.read, missing = missing_texts(session, model=model, dimension=dimension)
    report.todo = len(missing)
    if on_total is not None:
        on_total(len(missing))
    if missing:
        blocks = mapper(
            {"hash": [digest for digest, _ in missing], "text": [t for _, t in missing]},
            EncodeBatch,
            worker_options={"model": model, "precision": precision, "batch_size": 64, "threads": pool.threads},
            actors=pool.actors,
            cpus_per_actor=pool.cpus_per_actor,
            batch_size=batch_size,
        )
        for block in blocks:
            with unit_of_work(factory) as session:
                written = BatchRepository(session).insert_vectors(
                    model=model, hashes=[str(h) for h in block["hash"]], vectors=np.asarray(block["vector"])
                )
            report.written += written
            if on_written is not None:
                on_written(len(block["hash"]))
    report.seconds = time.perf_counter() - started
    return report


class MissingVectors(RuntimeError):
    """Scoring needs every stored text's vector: `techmatch batch encode` first."""


def scoring_catalogue(
    session: Session,
    *,
    model: str,
    dimension: int,
    precision: Precision,
    k: int,
    threshold: float,
    shared: bool,
    labels_dir: Path | None,
    cache_dir: Path | None,
) -> tuple[ScoringCatalogue, list[list[int]]]:
    """Everything scoring reads from the database, and each need's technologies to leave out."""

    technologies = all_technology_records(session)
    needs = all_need_records(session)
    store = EmbeddingStore(session)

    def stored(texts: list[str]) -> np.ndarray:
        hashes = [text_hash(t) for t in texts]
        found = store.vectors(model=model, text_hashes=set(hashes))
        missing = sum(1 for digest in set(hashes) if digest not in found or found[digest][0] != dimension)
        if missing:
            raise MissingVectors(f"{missing} stored texts have no vector for {model}: run `techmatch batch encode`")
        out = np.empty((len(texts), dimension), dtype=np.float32)
        for row, digest in enumerate(hashes):
            out[row] = np.frombuffer(found[digest][1], dtype="<f4")
        return out

    technology_vectors = stored([technology_text(t) for t in technologies])
    need_vectors = stored([need_text(n) for n in needs])
    ranking = current_model(session)
    calibration = None
    if ranking is None or ranking.calibration is None:
        calibration = DEFAULT_CALIBRATION
        if model != GLOSSARY_MODEL and labels_dir is not None:
            # As the service calibrates this model: fitted on the shipped labels once, cached beside the index.
            from matching.encoders.factory import load_encoder
            from matching.matcher import Matcher

            fitter = Matcher(load_encoder(model, precision=precision))
            calibration = default_calibration(matcher=fitter, labels_dir=labels_dir, cache_dir=cache_dir)
    voter_ids = set(ranking.votes) if ranking is not None and ranking.neighbour_weight else set()
    voter_rows = [row for row, n in enumerate(needs) if n.id in voter_ids]
    repository = BatchRepository(session)
    decided = repository.decided()
    hidden: dict[str, set[int]] = {}
    need_tenants = repository.tenants_of_needs()
    if not shared:
        owners = repository.technology_tenants()
        for tenant in set(need_tenants.values()):
            hidden[tenant] = {i for i, owner in owners.items() if owner != tenant}
    exclude = [sorted(decided.get(n.id, set()) | hidden.get(need_tenants[n.id], set())) for n in needs]
    catalogue = ScoringCatalogue(
        model=model,
        precision=precision,
        technologies=technologies,
        technology_vectors=technology_vectors,
        needs=needs,
        need_vectors=need_vectors,
        ranking=ranking,
        calibration=calibration,
        voters=[needs[row] for row in voter_rows],
        voter_vectors=need_vectors[voter_rows] if voter_rows else np.zeros((0, dimension), dtype=np.float32),
        k=k,
        threshold=threshold,
    )
    return catalogue, exclude


def score_all(
    factory: sessionmaker[Session],
    *,
    catalogue: ScoringCatalogue,
    exclude: list[list[int]],
    pool: PoolOptions,
    mapper: Mapper,
    put: Callable[[Any], Any],
    batch_size: int = SCORE_BATCH,
    on_total: Progress | None = None,
    on_written: Progress | None = None,
) -> JobReport:
    """Every need against the offerings on the actor pool; each block of needs' proposals written as it comes."""
    started = time.perf_counter()
    report = JobReport(job="score", model=catalogue.model, ray_address=pool.address, actors=pool.actors)
    report.read = len(catalogue.needs)
    report.todo = len(catalogue.needs)
    report.extra = {"technologies": len(catalogue.technologies), "needs_without_match": 0}
    if on_total is not None:
        on_total(len(catalogue.needs))
    if catalogue.needs and catalogue.technologies:
        blocks = mapper(
            {"row": list(range(len(catalogue.needs))), "exclude": exclude},
            ScoreBatch,
            worker_options={"catalogue": put(catalogue), "threads": pool.threads},
            actors=pool.actors,
            cpus_per_actor=pool.cpus_per_actor,
            batch_size=batch_size,
        )
        for block in blocks:
            proposals: dict[int, list[tuple[int, float, dict[str, Any]]]] = {}
            for need_id, technology_id, score, components in zip(
                block["need_id"].tolist(),
                block["technology_id"].tolist(),
                block["score"].tolist(),
                block["components"],
                strict=True,
            ):
                entries = proposals.setdefault(int(need_id), [])
                if technology_id >= 0:
                    entries.append((int(technology_id), float(score), components_of(str(components))))
            report.extra["needs_without_match"] += sum(1 for entries in proposals.values() if not entries)
            with unit_of_work(factory) as session:
                report.written += BatchRepository(session).replace_proposed(proposals)
            if on_written is not None:
                on_written(len(proposals))
    report.seconds = time.perf_counter() - started
    return report
