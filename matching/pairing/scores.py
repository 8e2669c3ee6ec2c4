"""A known set of pairs scored without searching the whole catalogue: a demonstration day's needs against
the day's offerings only, each pair with the score a search gives it."""

from __future__ import annotations

from collections.abc import Collection
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from matching.ranking.features import candidates_among, pair_features, with_sentences
from matching.retrieval.texts import need_text, own_text
from matching.types import Match, Need

if TYPE_CHECKING:
    from matching.matcher import Matcher


def warm_sentences(matcher: Matcher, technology_ids: Collection[int]) -> None:
    """Encode, in one call, the sentences of these technologies that the cache lacks (before scoring many needs)."""
    with matcher.catalogue.lock:
        records = matcher.catalogue.technologies.records
        texts = [own_text(records[i].title, records[i].description) for i in technology_ids if i in records]
    if texts:
        matcher.explainer.sentence_vectors(texts, kind="passage")


def scores_among(
    matcher: Matcher,
    need: Need,
    technology_ids: Collection[int],
    *,
    query_vector: np.ndarray | None = None,
) -> list[Match]:
    """`need` scored against exactly `technology_ids` (those in the index), best first, unexplained.

    Each pair gets the score a search gives it, its best-sentence feature included for every one of them
    (a search computes that for its `rerank_depth` best candidates only), so a pair outside a need's 30
    best may score a little differently here than in the need's list.
    """
    text = need_text(need)
    if query_vector is None:
        query_vector = matcher.queries.of(matcher.catalogue.needs, need.id, text)
    affinity, _ = matcher.need_categories(query_vector)
    with matcher.catalogue.lock:
        side = matcher.catalogue.technologies
        found = candidates_among(
            side,
            ids=technology_ids,
            query_vector=query_vector,
            query_text=text,
            features=lambda i: pair_features(need, side.records[i], affinity),
        )
        texts = (
            {
                row: own_text(side.records[ident].title, side.records[ident].description)
                for row, ident in enumerate(found.ids)
            }
            if found is not None
            else {}
        )
        priors, need_term = matcher.priors, matcher.need_term
    if found is None:
        return []
    found = with_sentences(
        found, query_vector=query_vector, texts=texts, sentence_vectors=matcher.explainer.sentence_vectors
    )
    ranked = matcher.score(
        found,
        k=len(found.ids),
        mode="hybrid",
        priors=priors,
        extra=None if need_term is None else partial(need_term, query_vector, need.id),
    )
    return [
        Match(need_id=need.id, technology_id=r.id, rank=rank, score=r.score, components=r.components)
        for rank, r in enumerate(ranked, start=1)
    ]
