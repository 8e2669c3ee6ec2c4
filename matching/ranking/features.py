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
    dense = side.vectors.scores(query_vector, ids)
    raw = dict(zip(dense_ids, dense_lexical.tolist(), strict=True))
    raw.update(zip(lexical_ids.tolist(), lexical_scores.tolist(), strict=True))
    ceiling = side.lexical.ceiling(query_text)
    lexical = np.array([raw[i] for i in ids], dtype=np.float32)
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
