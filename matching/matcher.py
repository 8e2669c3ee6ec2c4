"""The Matcher: coordinates encoder, catalogue, candidates, scoring and explanations for needs and leads."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from functools import partial
from pathlib import Path

import numpy as np

from matching.encoders.base import Encoder
from matching.language.detection import text_language
from matching.ranking.calibration import DEFAULT_CALIBRATION, Calibration
from matching.ranking.explanation import Explainer, evidence_text
from matching.ranking.features import (
    CandidateFeatures,
    Mode,
    PairFeatures,
    candidates,
    pair_features,
    with_sentences,
)
from matching.ranking.fusion import RankingWeights
from matching.ranking.scoring import Scored, ranking_scores, rerank_rows, top_k
from matching.ranking.taxonomy import Taxonomy
from matching.retrieval.collection import CatalogueIndex, Side
from matching.retrieval.queries import QueryVectors
from matching.retrieval.texts import need_text, own_text, split_sentences, technology_text
from matching.types import Match, Need, Technology

NeedTerm = Callable[[np.ndarray, int, list[int]], np.ndarray]

SENTENCE_CACHE_FILE = "sentences.npz"


class Matcher:
    """Need -> technologies and technology -> needs (leads), with fused scores and explanations.

    Thread-safe: searches and writes take one lock; encoding happens outside it.
    """

    def __init__(
        self, encoder: Encoder, *, weights: RankingWeights | None = None, calibration: Calibration | None = None
    ) -> None:
        self.encoder = encoder
        self.weights = weights or RankingWeights()
        # Evidence -> probability that the offering solves the need (matching.ranking.calibration).
        self.calibration = calibration or DEFAULT_CALIBRATION
        # Technology id -> additive score term learned from curator decisions (matching.learning.feedback).
        self.priors: dict[int, float] = {}
        # (query vector, need id, technology ids) -> additive score terms: votes of similar decided needs.
        self.need_term: NeedTerm | None = None
        # Both sides' records, vectors and BM25, kept in step with the database by the service.
        self.catalogue = CatalogueIndex(model=encoder.name, dimension=encoder.dimension)
        self.taxonomy = Taxonomy(encoder)
        self.explainer = Explainer(encoder)
        # Query vectors of needs and offerings: stored, cached or encoded (matching.retrieval.queries).
        self.queries = QueryVectors(encoder, self.catalogue)
        self.query_cache = self.queries.cache

    @property
    def sentence_cache(self):  # type: ignore[no-untyped-def]
        return self.explainer.sentence_cache

    def save_vector_caches(self, directory: Path) -> None:
        """Save the cached sentence and query vectors beside the index, so a restart encodes none of them again."""
        self.explainer.sentence_cache.save(directory / SENTENCE_CACHE_FILE, model=self.encoder.name)
        self.queries.save(directory)

    def forget_needs(self, ids: Collection[int]) -> int:
        """Remove needs from the index and every cached vector of their texts and sentences (an erasure).

        Returns how many cached vectors went. The caches are keyed by text, so a vector shared with a text
        that stays elsewhere goes too; it is encoded again when next needed."""
        with self.catalogue.lock:
            records = [self.catalogue.needs.records[i] for i in ids if i in self.catalogue.needs.records]
            self.catalogue.remove_needs(ids)
        dropped = self.queries.forget(records)
        sentences = [s for n in records for s in split_sentences(evidence_text(n.title, n.description))]
        for kind in ("query", "passage"):
            dropped += self.explainer.sentence_cache.discard(sentences, kind=kind)
        return dropped

    def load_vector_caches(self, directory: Path) -> int:
        """Take back the vectors `save_vector_caches` saved with this model; returns how many."""
        sentences = self.explainer.sentence_cache.load(directory / SENTENCE_CACHE_FILE, model=self.encoder.name)
        return sentences + self.queries.load(directory)

    def set_ranking(
        self,
        *,
        weights: RankingWeights,
        priors: Mapping[int, float],
        need_term: NeedTerm | None = None,
        calibration: Calibration | None = None,
    ) -> None:
        """Swap weights, technology priors, the need term and the calibration together (a learned model,
        or the defaults; `calibration` None keeps the one in use)."""
        with self.catalogue.lock:
            self.weights, self.priors, self.need_term = weights, dict(priors), need_term
            if calibration is not None:
                self.calibration = calibration

    def encode_technologies(self, technologies: Sequence[Technology], **options: object) -> np.ndarray:
        texts = [technology_text(t) for t in technologies]
        return self.encoder.encode(texts, kind="passage", **options)  # type: ignore[arg-type]

    def encode_needs(self, needs: Sequence[Need], **options: object) -> np.ndarray:
        texts = [need_text(n) for n in needs]
        return self.encoder.encode(texts, kind="passage", **options)  # type: ignore[arg-type]

    # -- ranking ----------------------------------------------------------------------------

    def need_categories(self, vector: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
        """Affinity of a need vector to each category, and the categories it is tagged with."""
        return self.taxonomy.need_categories(vector)

    def query_vectors(self, needs: Sequence[Need]) -> np.ndarray:
        """Each need's query vector, row-aligned (stored, cached or encoded in one call)."""
        return self.queries.of_needs(needs)

    def _candidates(
        self,
        side: Side,  # type: ignore[type-arg]
        *,
        query_vector: np.ndarray,
        query_text: str,
        depth: int,
        exclude: Collection[int],
        mode: Mode,
        features: Callable[[int], PairFeatures],
    ) -> tuple[CandidateFeatures | None, dict[int, str]]:
        """Candidates with their features, and the own texts of those that may get their sentence cosine
        (under the catalogue lock: it reads the side)."""
        if not side.records:
            return None, {}
        found = candidates(
            side,
            query_vector=query_vector,
            query_text=query_text,
            depth=depth,
            exclude=exclude,
            mode=mode,
            features=features,
        )
        if found is None or mode != "hybrid":
            return found, {}
        rows = rerank_rows(found, weights=self.weights)
        return found, {
            row: own_text(side.records[found.ids[row]].title, side.records[found.ids[row]].description) for row in rows
        }

    def score(
        self,
        found: CandidateFeatures | None,
        *,
        k: int,
        mode: Mode,
        priors: Mapping[int, float] | None = None,
        extra: Callable[[list[int]], np.ndarray] | None = None,
    ) -> list[Scored]:
        """The k best of `found` by calibrated probability, with each one's score components."""
        if found is None:
            return []
        scores, parts = ranking_scores(
            found, weights=self.weights, calibration=self.calibration, mode=mode, priors=priors, extra=extra
        )
        return top_k(found, scores, k=k, calibration=self.calibration, parts=parts)

    def match_features(self, need: Need, *, query_vector: np.ndarray | None = None) -> CandidateFeatures | None:
        """The hybrid candidate set of `need` with every feature scoring uses (for learning and calibration)."""
        text = need_text(need)
        if query_vector is None:
            query_vector = self.queries.of(self.catalogue.needs, need.id, text)
        affinity, _ = self.need_categories(query_vector)
        with self.catalogue.lock:
            side = self.catalogue.technologies
            found, texts = self._candidates(
                side,
                query_vector=query_vector,
                query_text=text,
                depth=self.weights.candidates,
                exclude=(),
                mode="hybrid",
                features=lambda i: pair_features(need, side.records[i], affinity),
            )
        if found is None:
            return None
        return with_sentences(
            found, query_vector=query_vector, texts=texts, sentence_vectors=self.explainer.sentence_vectors
        )

    def match(
        self,
        need: Need,
        *,
        k: int = 10,
        exclude: Collection[int] = (),
        explain: bool = True,
        mode: Mode = "hybrid",
        query_vector: np.ndarray | None = None,
    ) -> list[Match]:
        """The k technologies that best solve `need`, best first."""
        text = need_text(need)
        if query_vector is None:
            query_vector = self.queries.of(self.catalogue.needs, need.id, text)
        affinity, tags = self.need_categories(query_vector)
        exclude = set(exclude)
        with self.catalogue.lock:
            side = self.catalogue.technologies
            found, texts = self._candidates(
                side,
                query_vector=query_vector,
                query_text=text,
                depth=max(self.weights.candidates, 5 * k) + len(exclude),
                exclude=exclude,
                mode=mode,
                features=lambda i: pair_features(need, side.records[i], affinity),
            )
            records = {i: side.records[i] for i in found.ids} if found is not None else {}
            common = side.lexical.common_stems() if explain else frozenset()
            priors, need_term = self.priors, self.need_term
        if found is not None:
            found = with_sentences(
                found, query_vector=query_vector, texts=texts, sentence_vectors=self.explainer.sentence_vectors
            )
        ranked = self.score(
            found,
            k=k,
            mode=mode,
            priors=priors,
            extra=None if need_term is None else partial(need_term, query_vector, need.id),
        )
        explanations = {}
        if explain:
            explanations = self.explainer.for_need(
                need=need,
                language=text_language(text, declared=need.lang),
                need_categories=tags,
                ranked=ranked,
                technologies=records,
                common=common,
            )
        return [
            Match(
                need_id=need.id,
                technology_id=r.id,
                rank=rank,
                score=r.score,
                components=r.components,
                explanation=explanations.get(r.id),
            )
            for rank, r in enumerate(ranked, start=1)
        ]

    def leads(
        self,
        technology: Technology,
        *,
        k: int = 10,
        exclude: Collection[int] = (),
        explain: bool = True,
        mode: Mode = "hybrid",
    ) -> list[Match]:
        """The k stored needs that `technology` fits best (leads for its provider), best first."""
        text = technology_text(technology)
        query_vector = self.queries.of(self.catalogue.technologies, technology.id, text)
        need_tags: dict[int, tuple[str, ...]] = {}
        exclude = set(exclude)
        with self.catalogue.lock:
            side = self.catalogue.needs

            def features(need_id: int) -> PairFeatures:
                affinity, need_tags[need_id] = self.need_categories(side.vectors.vectors([need_id])[0])
                return pair_features(side.records[need_id], technology, affinity)

            found, texts = self._candidates(
                side,
                query_vector=query_vector,
                query_text=text,
                depth=max(self.weights.candidates, 5 * k) + len(exclude),
                exclude=exclude,
                mode=mode,
                features=features,
            )
            records = {i: side.records[i] for i in found.ids} if found is not None else {}
            common = self.catalogue.technologies.lexical.common_stems() if explain else frozenset()
        if found is not None:
            found = with_sentences(
                found, query_vector=query_vector, texts=texts, sentence_vectors=self.explainer.sentence_vectors
            )
        ranked = self.score(found, k=k, mode=mode)
        explanations = {}
        if explain:
            explanations = self.explainer.for_technology(
                technology=technology, ranked=ranked, needs=records, need_categories=need_tags, common=common
            )
        return [
            Match(
                need_id=r.id,
                technology_id=technology.id,
                rank=rank,
                score=r.score,
                components=r.components,
                explanation=explanations.get(r.id),
            )
            for rank, r in enumerate(ranked, start=1)
        ]
