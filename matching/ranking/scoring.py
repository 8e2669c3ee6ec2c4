"""Scoring: one number per candidate from its features, and the top k with their score components."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from matching.ranking.features import CandidateFeatures, Mode, PairFeatures
from matching.ranking.fusion import RankingWeights
from matching.types import ScoreComponents


@dataclass(frozen=True, slots=True)
class Scored:
    """One ranked candidate: its id, score, the components shown for it and its pair features."""

    id: int
    score: float
    components: ScoreComponents
    pair: PairFeatures


def fused_scores(
    found: CandidateFeatures,
    *,
    weights: RankingWeights,
    mode: Mode,
    priors: Mapping[int, float] | None = None,
    extra: Callable[[list[int]], np.ndarray] | None = None,
) -> np.ndarray:
    """The ranking score of every candidate: a retriever's own score, or the hybrid fusion."""
    if mode == "dense":
        return found.dense.astype(np.float32)
    if mode == "lexical":
        return found.lexical
    w = weights
    total = w.dense + w.lexical + w.taxonomy + w.sector
    fused = (
        w.dense * found.dense_n + w.lexical * found.lexical_n + w.taxonomy * found.taxonomy + w.sector * found.sector
    ) / total - w.constraint_penalty * found.violations
    if priors:
        fused = fused + np.array([priors.get(i, 0.0) for i in found.ids], dtype=np.float32)
    if extra is not None:
        fused = fused + extra(found.ids).astype(np.float32)
    return np.asarray(fused, dtype=np.float32)


def top_k(found: CandidateFeatures, fused: np.ndarray, *, k: int, weights: RankingWeights, mode: Mode) -> list[Scored]:
    """The k best candidates, best first, each with the components an explanation shows."""
    ranked = []
    for row in np.argsort(-fused, kind="stable")[:k]:
        pair = found.pair[row]
        components = ScoreComponents(
            dense=round(float(found.dense[row]), 4),
            lexical=round(float(found.lexical_n[row]), 4),
            taxonomy=round(pair.taxonomy, 4),
            sector=pair.sector,
            constraint_penalty=round(weights.constraint_penalty * sum(not v.satisfied for v in pair.verdicts), 4),
        )
        score = float(np.clip(fused[row], 0.0, 1.0)) if mode == "hybrid" else float(fused[row])
        ranked.append(Scored(id=found.ids[row], score=round(score, 4), components=components, pair=pair))
    return ranked
