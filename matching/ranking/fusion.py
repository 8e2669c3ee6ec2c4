"""Score fusion: the weights that combine dense, lexical, taxonomy and sector scores, and their normalisation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Normalisation = Literal["minmax", "rrf"]


@dataclass(frozen=True, slots=True)
class RankingWeights:
    """How the score components combine.

    Defaults come from a grid search on the dev benchmark (scripts/tune_fusion.py --grid); the
    surface is flat around them (nDCG@10 within 0.01 for neighbouring values).
    """

    dense: float = 0.6
    lexical: float = 0.4
    taxonomy: float = 0.1
    sector: float = 0.1
    constraint_penalty: float = 0.1
    normalisation: Normalisation = "minmax"
    rrf_k: int = 60
    candidates: int = 100


def minmax(scores: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] over the candidate set; a constant vector maps to zeros (no signal)."""
    if not len(scores):
        return scores.astype(np.float32)
    low, high = float(scores.min()), float(scores.max())
    if high - low < 1e-9:
        return np.zeros_like(scores, dtype=np.float32)
    return ((scores - low) / (high - low)).astype(np.float32)


def reciprocal_ranks(scores: np.ndarray, *, k: int, present: np.ndarray | None = None) -> np.ndarray:
    """1 / (k + rank) by descending score, scaled so rank 1 gives 1; absent candidates give 0."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.float32)
    ranks[order] = np.arange(1, len(scores) + 1, dtype=np.float32)
    out = (k + 1) / (k + ranks)
    if present is not None:
        out = np.where(present, out, 0.0)
    return out.astype(np.float32)


def normalise_scores(scores: np.ndarray, *, weights: RankingWeights, present: np.ndarray | None = None) -> np.ndarray:
    if weights.normalisation == "rrf":
        return reciprocal_ranks(scores, k=weights.rrf_k, present=present)
    return minmax(scores)
