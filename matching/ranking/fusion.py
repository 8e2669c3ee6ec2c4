"""Fusion: the evidence score of a pair, one weighted sum of features that never depend on the other candidates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class RankingWeights:
    """How a pair's features add up to its evidence score (in "points"):

        dense * cosine + sentence * best sentence cosine + lexical * coverage ** lexical_power
        + taxonomy * affinity + sector * shared - constraint_penalty * violated constraints

    Each feature is a property of the pair alone (see `CandidateFeatures`), so a pair's evidence,
    and the probability calibrated on it, stay the same whatever else the catalogue holds. The square
    root of the lexical coverage rewards the first shared words most. The best sentence cosine (the
    query against each sentence of the other party's own text) helps short needs, which a whole long
    offering dilutes; it is computed for the `rerank_depth` best candidates, the others keep their
    cosine in its place. Defaults from a grid search over
    the shipped demo catalogue and the dev benchmark together (scripts/tune_fusion.py); SciFact was
    only measured (docs: "How a need is ranked").
    """

    dense: float = 1.0
    sentence: float = 0.5
    lexical: float = 2.0
    lexical_power: float = 0.5
    taxonomy: float = 0.1
    sector: float = 0.1
    constraint_penalty: float = 0.1
    candidates: int = 100
    rerank_depth: int = 30


def lexical_term(coverage: np.ndarray, weights: RankingWeights) -> np.ndarray:
    """The lexical feature as the evidence uses it: coverage ** lexical_power."""
    return np.asarray(np.power(np.clip(coverage, 0.0, 1.0), weights.lexical_power), dtype=np.float64)
