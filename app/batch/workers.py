"""The work of a batch job, one batch at a time: plain callables that Ray runs in actors (one model each)
and the benchmark runs in process. Nothing here imports Ray or touches the database."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from matching.encoders.names import Precision
from matching.learning.feedback import FeedbackModel
from matching.ranking.calibration import Calibration
from matching.types import Need, Technology

Batch = dict[str, np.ndarray]


def _threads(count: int) -> None:
    # One model per actor: its PyTorch threads are the CPUs the actor holds, not the machine's.
    if count > 0:
        import torch

        torch.set_num_threads(count)


class EncodeBatch:
    """Texts to vectors with the configured model, loaded once per actor."""

    def __init__(self, *, model: str, precision: Precision = "auto", batch_size: int = 64, threads: int = 0) -> None:
        from matching.encoders.factory import load_encoder

        _threads(threads)
        self.encoder = load_encoder(model, precision=precision)
        self.batch_size = batch_size

    def __call__(self, batch: Batch) -> Batch:
        texts = [str(t) for t in batch["text"]]
        vectors = self.encoder.encode(texts, kind="passage", batch_size=self.batch_size)
        return {"hash": np.asarray(batch["hash"]), "vector": np.asarray(vectors, dtype=np.float32)}


@dataclass(frozen=True, slots=True)
class ScoringCatalogue:
    """What a scoring actor needs, shipped once through Ray's object store: no database, no shared files."""

    model: str
    precision: Precision
    technologies: list[Technology]
    technology_vectors: np.ndarray
    needs: list[Need]
    need_vectors: np.ndarray
    # The stored ranking model, its calibration, and the vectors of the needs its votes come from.
    ranking: FeedbackModel | None
    calibration: Calibration | None
    voters: list[Need]
    voter_vectors: np.ndarray
    k: int
    threshold: float


class ScoreBatch:
    """Needs (rows of the shipped catalogue) to their best technologies, as the service ranks them,
    without explanations. Every need answers at least one row: technology -1 when nothing passes."""

    def __init__(self, *, catalogue: Any, threads: int = 0) -> None:
        from matching.encoders.factory import load_encoder
        from matching.learning import feedback
        from matching.matcher import Matcher

        if not isinstance(catalogue, ScoringCatalogue):  # an object-store reference, when run by Ray
            import ray

            catalogue = ray.get(catalogue)
        _threads(threads)
        self.catalogue: ScoringCatalogue = catalogue
        self.matcher = Matcher(load_encoder(catalogue.model, precision=catalogue.precision))
        self.matcher.catalogue.build(
            technologies=catalogue.technologies,
            technology_vectors=catalogue.technology_vectors,
            needs=catalogue.voters,
            need_vectors=catalogue.voter_vectors,
        )
        feedback.apply(self.matcher, catalogue.ranking, calibration=catalogue.calibration)

    def __call__(self, batch: Batch) -> Batch:
        out: dict[str, list[Any]] = {"need_id": [], "technology_id": [], "score": [], "components": []}
        for row, exclude in zip(batch["row"].tolist(), batch["exclude"], strict=True):
            need = self.catalogue.needs[int(row)]
            found = self.matcher.match(
                need,
                k=self.catalogue.k,
                exclude={int(i) for i in exclude},
                explain=False,
                query_vector=self.catalogue.need_vectors[int(row)],
            )
            kept = [m for m in found if m.score >= self.catalogue.threshold]
            for match in kept:
                out["need_id"].append(need.id)
                out["technology_id"].append(match.technology_id)
                out["score"].append(match.score)
                out["components"].append(json.dumps(asdict(match.components)))
            if not kept:
                out["need_id"].append(need.id)
                out["technology_id"].append(-1)
                out["score"].append(0.0)
                out["components"].append("{}")
        return {
            "need_id": np.asarray(out["need_id"], dtype=np.int64),
            "technology_id": np.asarray(out["technology_id"], dtype=np.int64),
            "score": np.asarray(out["score"], dtype=np.float64),
            "components": np.asarray(out["components"], dtype=object),
        }
