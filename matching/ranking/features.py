"""Candidate generation and pair features: the union of dense and BM25 top hits, with what fusion combines."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Literal

import numpy as np

from matching.ranking.constraints import check_constraints
from matching.ranking.fusion import RankingWeights, normalise_scores
from matching.ranking.taxonomy import taxonomy_score
from matching.retrieval.collection import Side
from matching.types import ConstraintVerdict, Need, Technology

Mode = Literal["hybrid", "dense", "lexical"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "lexical")


@dataclass(frozen=True, slots=True)
class PairFeatures:
    """What one (need, technology) pair brings besides retrieval scores."""

    taxonomy: float
    sector: float
    verdicts: tuple[ConstraintVerdict, ...]


def pair_features(need: Need, technology: Technology, affinity: np.ndarray) -> PairFeatures:
    return PairFeatures(
        taxonomy=taxonomy_score(affinity, technology.categories),
        sector=1.0 if need.sector and need.sector in technology.sectors else 0.0,
        verdicts=check_constraints(need.constraints, technology),
    )


@dataclass(frozen=True, slots=True)
class CandidateFeatures:
    """A query's candidate set with the inputs of hybrid fusion, row-aligned with `ids`.

    `dense` is the raw cosine; the other columns are what the fused score combines (dense and
    lexical normalised over this candidate set, violations counted), so a model fitted on them
    ranks exactly as the Matcher will.
    """

    ids: list[int]
    dense: np.ndarray
    lexical: np.ndarray
    dense_n: np.ndarray
    lexical_n: np.ndarray
    taxonomy: np.ndarray
    sector: np.ndarray
    violations: np.ndarray
    pair: list[PairFeatures]


def candidates(
    side: Side,  # type: ignore[type-arg]
    *,
    query_vector: np.ndarray,
    query_text: str,
    depth: int,
    exclude: Collection[int],
    mode: Mode,
    weights: RankingWeights,
    features: Callable[[int], PairFeatures],
) -> CandidateFeatures | None:
    """The top `depth` of each retriever `mode` uses, merged, minus `exclude`, with their features."""
    _, dense_hits = side.vectors.search(query_vector, depth)
    dense_ids = dense_hits[0]
    lexical_scores, lexical_ids = side.lexical.search(query_text, depth)
    if mode == "dense":
        ids = [int(i) for i in dense_ids if i >= 0]
    elif mode == "lexical":
        ids = [int(i) for i in lexical_ids]
    else:
        ids = list(dict.fromkeys([*(int(i) for i in dense_ids if i >= 0), *lexical_ids.tolist()]))
    ids = [i for i in ids if i not in exclude and i in side.records]
    if not ids:
        return None
    dense = side.vectors.vectors(ids) @ query_vector
    lexical_by_id = dict(zip(lexical_ids.tolist(), lexical_scores.tolist(), strict=True))
    lexical = np.array([lexical_by_id.get(i, 0.0) for i in ids], dtype=np.float32)
    present = np.array([i in lexical_by_id for i in ids])
    pair = [features(i) for i in ids]
    return CandidateFeatures(
        ids=ids,
        dense=dense,
        lexical=lexical,
        dense_n=normalise_scores(dense, weights=weights),
        lexical_n=normalise_scores(lexical, weights=weights, present=present),
        taxonomy=np.array([p.taxonomy for p in pair], dtype=np.float32),
        sector=np.array([p.sector for p in pair], dtype=np.float32),
        violations=np.array([sum(not v.satisfied for v in p.verdicts) for p in pair], dtype=np.float32),
        pair=pair,
    )
