"""Candidate generation and pair features: the union of dense and BM25 top hits, with what fusion combines."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from matching.ranking.constraints import check_constraints
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
    """A query's candidate set with what scoring combines, row-aligned with `ids`.

    Every column is a property of the pair alone, never of the other candidates, so a score built
    from them means the same whatever else the catalogue holds: `dense` is the cosine of the two
    texts, `lexical` the share of the query's BM25 weight the offering covers (raw BM25 over the
    query's ceiling, see `LexicalIndex.ceiling`), `taxonomy` and `sector` as in `PairFeatures`, and
    `violations` the number of stated constraints the offering breaks. `sentence` is the best cosine of
    the query and one sentence of the other party's own text; `with_sentences` fills it in for the
    best candidates (until then, and for the rest, the whole-text cosine stands in).
    """

    ids: list[int]
    dense: np.ndarray
    sentence: np.ndarray
    lexical: np.ndarray
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
    features: Callable[[int], PairFeatures],
) -> CandidateFeatures | None:
    """The top `depth` of each retriever `mode` uses, merged, minus `exclude`, with their features."""
    _, dense_hits = side.vectors.search(query_vector, depth)
    dense_ids = [int(i) for i in dense_hits[0] if i >= 0]
    # One BM25 pass: its own top hits, and the scores of the dense hits too (a dense hit outside
    # BM25's top `depth` still shares words with the query, and its coverage should say so).
    lexical_scores, lexical_ids, dense_lexical = side.lexical.search_and_score(query_text, depth, dense_ids)
    if mode == "dense":
        ids = dense_ids
    elif mode == "lexical":
        ids = [int(i) for i in lexical_ids]
    else:
        ids = list(dict.fromkeys([*dense_ids, *lexical_ids.tolist()]))
    ids = [i for i in ids if i not in exclude and i in side.records]
    if not ids:
        return None
    raw = dict(zip(dense_ids, dense_lexical.tolist(), strict=True))
    raw.update(zip(lexical_ids.tolist(), lexical_scores.tolist(), strict=True))
    lexical = np.array([raw[i] for i in ids], dtype=np.float32)
    return _features_of(side, ids, query_vector=query_vector, query_text=query_text, lexical=lexical, features=features)


def candidates_among(
    side: Side,  # type: ignore[type-arg]
    *,
    ids: Collection[int],
    query_vector: np.ndarray,
    query_text: str,
    features: Callable[[int], PairFeatures],
) -> CandidateFeatures | None:
    """Exactly `ids` (those indexed) as candidates, with the same features `candidates` gives them.

    For scoring a known set of pairs (a demonstration day's offerings) without searching the whole
    catalogue: every column is a property of the pair, so a pair scores here as it does in a search.
    """
    chosen = [i for i in dict.fromkeys(ids) if i in side.records]
    if not chosen:
        return None
    lexical = side.lexical.scores_of(query_text, chosen)
    return _features_of(
        side, chosen, query_vector=query_vector, query_text=query_text, lexical=lexical, features=features
    )


def _features_of(
    side: Side,  # type: ignore[type-arg]
    ids: list[int],
    *,
    query_vector: np.ndarray,
    query_text: str,
    lexical: np.ndarray,
    features: Callable[[int], PairFeatures],
) -> CandidateFeatures:
    """The candidate set of `ids`, given their raw BM25 scores (`lexical`)."""
    dense = side.vectors.scores(query_vector, ids)
    ceiling = side.lexical.ceiling(query_text)
    coverage = np.clip(lexical / ceiling, 0.0, 1.0) if ceiling > 0 else np.zeros_like(lexical)
    pair = [features(i) for i in ids]
    return CandidateFeatures(
        ids=ids,
        dense=dense.astype(np.float32),
        sentence=dense.astype(np.float32),
        lexical=coverage.astype(np.float32),
        taxonomy=np.array([p.taxonomy for p in pair], dtype=np.float32),
        sector=np.array([p.sector for p in pair], dtype=np.float32),
        violations=np.array([sum(not v.satisfied for v in p.verdicts) for p in pair], dtype=np.float32),
        pair=pair,
    )


def with_sentences(
    found: CandidateFeatures,
    *,
    query_vector: np.ndarray,
    texts: Mapping[int, str],
    sentence_vectors: Callable[..., list[tuple[list[str], np.ndarray]]],
) -> CandidateFeatures:
    """`found` with the best sentence cosine of the rows in `texts` (row -> the party's own text) filled in.

    Sentence vectors come from `sentence_vectors` (the explanations' cache, so each sentence is encoded
    once); called outside the catalogue lock, since it may encode."""
    if not texts:
        return found
    rows = list(texts)
    groups = sentence_vectors([texts[row] for row in rows], kind="passage")
    sentence = found.sentence.copy()
    for row, (_, vectors) in zip(rows, groups, strict=True):
        if len(vectors):
            sentence[row] = float((vectors @ query_vector).max())
    return replace(found, sentence=sentence)
