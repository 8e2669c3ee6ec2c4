"""Scoring: each candidate's evidence, its calibrated probability, and the top k with what the score is made of."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy.special import expit as calibration_probability

from matching.ranking.calibration import CEILING_LOG_ODDS, Calibration
from matching.ranking.features import CandidateFeatures, Mode, PairFeatures
from matching.ranking.fusion import RankingWeights, lexical_term
from matching.types import ScoreComponents

# The parts of the log-odds, in the order explanations list them.
PARTS: tuple[str, ...] = (
    "intercept",
    "dense",
    "sentence",
    "lexical",
    "taxonomy",
    "sector",
    "constraints",
    "learned",
    "ceiling",
)


@dataclass(frozen=True, slots=True)
class Scored:
    """One ranked candidate: its id, score, the components shown for it and its pair features."""

    id: int
    score: float
    components: ScoreComponents
    pair: PairFeatures


@dataclass(frozen=True, slots=True)
class Evidence:
    """Each candidate's evidence in points, per part, row-aligned with the candidate set."""

    parts: dict[str, np.ndarray]

    @property
    def total(self) -> np.ndarray:
        return np.asarray(np.sum(list(self.parts.values()), axis=0), dtype=np.float64)


def evidence(
    found: CandidateFeatures,
    *,
    weights: RankingWeights,
    priors: Mapping[int, float] | None = None,
    extra: Callable[[list[int]], np.ndarray] | None = None,
) -> Evidence:
    """The evidence of every candidate, part by part; "learned" holds what curator decisions add."""
    learned = np.zeros(len(found.ids), dtype=np.float64)
    if priors:
        learned += np.array([priors.get(i, 0.0) for i in found.ids], dtype=np.float64)
    if extra is not None:
        learned += np.asarray(extra(found.ids), dtype=np.float64)
    return Evidence(
        parts={
            "dense": weights.dense * found.dense.astype(np.float64),
            "sentence": weights.sentence * found.sentence.astype(np.float64),
            "lexical": weights.lexical * lexical_term(found.lexical.astype(np.float64), weights),
            "taxonomy": weights.taxonomy * found.taxonomy.astype(np.float64),
            "sector": weights.sector * found.sector.astype(np.float64),
            "constraints": -weights.constraint_penalty * found.violations.astype(np.float64),
            "learned": learned,
        }
    )


def rerank_rows(found: CandidateFeatures, *, weights: RankingWeights) -> list[int]:
    """The rows of the `rerank_depth` best candidates by evidence before their sentence cosine is known."""
    first = evidence(found, weights=weights).total
    return [int(row) for row in np.argsort(-first, kind="stable")[: weights.rerank_depth]]


def ranking_scores(
    found: CandidateFeatures,
    *,
    weights: RankingWeights,
    calibration: Calibration,
    mode: Mode,
    priors: Mapping[int, float] | None = None,
    extra: Callable[[list[int]], np.ndarray] | None = None,
) -> tuple[np.ndarray, Evidence | None]:
    """What candidates are ranked by: a retriever's own score (dense, lexical), or the calibrated probability."""
    if mode == "dense":
        return found.dense.astype(np.float64), None
    if mode == "lexical":
        return found.lexical.astype(np.float64), None
    parts = evidence(found, weights=weights, priors=priors, extra=extra)
    return calibration.probability(parts.total), parts


def top_k(
    found: CandidateFeatures,
    scores: np.ndarray,
    *,
    k: int,
    calibration: Calibration,
    parts: Evidence | None,
) -> list[Scored]:
    """The k best candidates, best first, each with its features and (hybrid) its log-odds part by part."""
    ranked = []
    for row in np.argsort(-scores, kind="stable")[:k]:
        pair = found.pair[row]
        contributions: dict[str, float] = {}
        log_odds = 0.0
        if parts is not None:
            contributions = {"intercept": round(calibration.intercept, 4)}
            for name, values in parts.parts.items():
                contributions[name] = round(calibration.scale * float(values[row]), 4)
            log_odds = round(sum(contributions.values()), 4)
            if log_odds > CEILING_LOG_ODDS:
                contributions["ceiling"] = round(CEILING_LOG_ODDS - log_odds, 4)
                log_odds = round(sum(contributions.values()), 4)
        components = ScoreComponents(
            dense=round(float(found.dense[row]), 4),
            sentence=round(float(found.sentence[row]), 4),
            lexical=round(float(found.lexical[row]), 4),
            taxonomy=round(pair.taxonomy, 4),
            sector=pair.sector,
            constraint_penalty=-contributions.get("constraints", 0.0) or 0.0,
            log_odds=log_odds,
            contributions=contributions,
        )
        # The score shown is the probability of the log-odds shown, so the parts add up to it exactly.
        score = float(calibration_probability(log_odds)) if parts is not None else float(scores[row])
        ranked.append(Scored(id=found.ids[row], score=round(score, 4), components=components, pair=pair))
    return ranked
