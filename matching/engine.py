"""The Matcher: owns the encoder and both indexes, ranks technologies for needs and needs for technologies."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Generic, Literal, TypeVar

import numpy as np

from matching.encoder import Encoder, reuses_passage_vector
from matching.errors import IndexMismatchError
from matching.explain import align_sentences, build_explanation
from matching.index import IndexMeta, VectorIndex
from matching.language import text_language
from matching.lexical import LexicalIndex
from matching.ranking import RankingWeights, category_affinity, check_constraints, normalise_scores
from matching.sentences import SentenceCache
from matching.text import need_text, split_sentences, technology_text
from matching.types import (
    CATEGORIES,
    ConstraintVerdict,
    Match,
    Need,
    ScoreComponents,
    Technology,
)

logger = logging.getLogger(__name__)

Mode = Literal["hybrid", "dense", "lexical"]
NeedTerm = Callable[[np.ndarray, int, list[int]], np.ndarray]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "lexical")
Record = TypeVar("Record", Technology, Need)

# A need is tagged with a category when its affinity reaches this share of the best category's.
NEED_CATEGORY_THRESHOLD = 0.5


@dataclass(frozen=True, slots=True)
class _PairFeatures:
    taxonomy: float
    sector: float
    verdicts: tuple[ConstraintVerdict, ...]


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
    pair: list[_PairFeatures]


class _Collection(Generic[Record]):
    """One searchable side: records, their texts, dense vectors and BM25."""

    def __init__(self, *, dimension: int, to_text: Callable[[Record], str]) -> None:
        self.records: dict[int, Record] = {}
        self.texts: dict[int, str] = {}
        self.vectors = VectorIndex(dimension)
        self.lexical = LexicalIndex()
        self._to_text = to_text

    def upsert(self, records: Sequence[Record], vectors: np.ndarray) -> None:
        ids = [r.id for r in records]
        texts = [self._to_text(r) for r in records]
        self.vectors.upsert(ids, vectors)
        self.lexical.upsert(ids, texts)
        for record, text in zip(records, texts, strict=True):
            self.records[record.id] = record
            self.texts[record.id] = text

    def remove(self, ids: Collection[int]) -> None:
        self.vectors.remove(ids)
        self.lexical.remove(ids)
        for ident in ids:
            self.records.pop(ident, None)
            self.texts.pop(ident, None)


class Matcher:
    """Need -> technologies and technology -> needs (leads), with fused scores and explanations.

    Thread-safe: searches and writes take one lock; encoding happens outside it.
    """

    def __init__(self, encoder: Encoder, *, weights: RankingWeights | None = None) -> None:
        self.encoder = encoder
        self.weights = weights or RankingWeights()
        # Technology id -> additive score term learned from curator decisions (matching.feedback).
        self.priors: dict[int, float] = {}
        # (query vector, need id, technology ids) -> additive score terms: votes of similar decided needs.
        self.need_term: NeedTerm | None = None
        self._lock = threading.RLock()
        self._technologies: _Collection[Technology] = _Collection(dimension=encoder.dimension, to_text=technology_text)
        self._needs: _Collection[Need] = _Collection(dimension=encoder.dimension, to_text=need_text)
        self._category_vectors: np.ndarray | None = None
        # Explanations align sentences: each sentence is encoded once, not once per request that shows it.
        self.sentence_cache = SentenceCache(dimension=encoder.dimension)

    def set_ranking(
        self, *, weights: RankingWeights, priors: Mapping[int, float], need_term: NeedTerm | None = None
    ) -> None:
        """Swap fusion weights, technology priors and the need term together (a learned model, or the defaults)."""
        with self._lock:
            self.weights, self.priors, self.need_term = weights, dict(priors), need_term

    def stored_need_vectors(self, ids: Collection[int]) -> dict[int, np.ndarray]:
        """The indexed vectors of those of `ids` that are stored needs."""
        with self._lock:
            present = [i for i in ids if i in self._needs.records]
            return dict(zip(present, self._needs.vectors.vectors(present), strict=True)) if present else {}

    # -- catalogue --------------------------------------------------------------------------

    @property
    def technology_count(self) -> int:
        return len(self._technologies.vectors)

    @property
    def need_count(self) -> int:
        return len(self._needs.vectors)

    def technology_ids(self) -> set[int]:
        with self._lock:
            return set(self._technologies.records)

    def need_ids(self) -> set[int]:
        with self._lock:
            return set(self._needs.records)

    def encode_technologies(self, technologies: Sequence[Technology], **options: object) -> np.ndarray:
        texts = [technology_text(t) for t in technologies]
        return self.encoder.encode(texts, kind="passage", **options)  # type: ignore[arg-type]

    def encode_needs(self, needs: Sequence[Need], **options: object) -> np.ndarray:
        texts = [need_text(n) for n in needs]
        return self.encoder.encode(texts, kind="passage", **options)  # type: ignore[arg-type]

    def build(
        self,
        *,
        technologies: Sequence[Technology],
        technology_vectors: np.ndarray,
        needs: Sequence[Need],
        need_vectors: np.ndarray,
    ) -> None:
        """Replace both sides with these records (vectors row-aligned with them)."""
        fresh_technologies: _Collection[Technology] = _Collection(
            dimension=self.encoder.dimension, to_text=technology_text
        )
        fresh_needs: _Collection[Need] = _Collection(dimension=self.encoder.dimension, to_text=need_text)
        fresh_technologies.upsert(technologies, technology_vectors)
        fresh_needs.upsert(needs, need_vectors)
        with self._lock:
            self._technologies, self._needs = fresh_technologies, fresh_needs

    def upsert_technologies(self, technologies: Sequence[Technology], vectors: np.ndarray) -> None:
        with self._lock:
            self._technologies.upsert(technologies, vectors)

    def remove_technologies(self, ids: Collection[int]) -> None:
        with self._lock:
            self._technologies.remove(ids)

    def upsert_needs(self, needs: Sequence[Need], vectors: np.ndarray) -> None:
        with self._lock:
            self._needs.upsert(needs, vectors)

    def remove_needs(self, ids: Collection[int]) -> None:
        with self._lock:
            self._needs.remove(ids)

    # -- persistence -----------------------------------------------------------------------

    def _meta(self, count: int, catalogue_version: int) -> IndexMeta:
        return IndexMeta(
            model=self.encoder.name,
            dimension=self.encoder.dimension,
            count=count,
            catalogue_version=catalogue_version,
        )

    def save(self, directory: Path, *, catalogue_version: int) -> None:
        with self._lock:
            for name, side in (("technologies", self._technologies), ("needs", self._needs)):
                side.vectors.save(directory, name=name, meta=self._meta(len(side.vectors), catalogue_version))
            self.save_lexical(directory, catalogue_version=catalogue_version)

    def save_lexical(self, directory: Path, *, catalogue_version: int) -> None:
        """Write both sides' BM25 indexes (`<name>.bm25.npz`) next to the vector files."""
        directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            for name, side in (("technologies", self._technologies), ("needs", self._needs)):
                side.lexical.save(directory / f"{name}.bm25.npz", catalogue_version=catalogue_version)

    def load(
        self,
        directory: Path,
        *,
        technologies: Sequence[Technology],
        needs: Sequence[Need],
        catalogue_version: int,
    ) -> list[str]:
        """Take the saved vectors for these records, or raise IndexMismatchError and change nothing.

        A saved BM25 index that is missing, outdated or damaged is rebuilt from the texts instead;
        returns the names of the sides whose BM25 was rebuilt (so the caller can save them).
        """
        loaded: list[_Collection] = []
        rebuilt: list[str] = []
        for name, records, to_text in (
            ("technologies", technologies, technology_text),
            ("needs", needs, need_text),
        ):
            vectors = VectorIndex.load(directory, name=name, expected=self._meta(len(records), catalogue_version))
            if set(vectors.ids().tolist()) != {r.id for r in records}:
                raise IndexMismatchError(f"the saved {name} index holds other ids than the database")
            side: _Collection = _Collection(dimension=self.encoder.dimension, to_text=to_text)
            side.vectors = vectors
            side.texts = {r.id: to_text(r) for r in records}
            try:
                lexical = LexicalIndex.load(
                    directory / f"{name}.bm25.npz", count=len(records), catalogue_version=catalogue_version
                )
                if set(lexical.ids().tolist()) != side.texts.keys():
                    raise IndexMismatchError(f"the saved {name} BM25 index holds other ids than the database")
                side.lexical = lexical
            except IndexMismatchError as exc:
                logger.info("rebuilding the %s BM25 index: %s", name, exc)
                side.lexical.upsert(list(side.texts), list(side.texts.values()))
                rebuilt.append(name)
            side.records = {r.id: r for r in records}
            loaded.append(side)
        with self._lock:
            self._technologies, self._needs = loaded[0], loaded[1]
        return rebuilt

    # -- taxonomy ---------------------------------------------------------------------------

    def _categories(self) -> np.ndarray:
        if self._category_vectors is None:
            source = resources.files("matching").joinpath("resources/categories.json")
            descriptions = json.loads(source.read_text("utf-8"))
            texts = [f"{name.replace('-', ' ')}: {descriptions[name]}" for name in CATEGORIES]
            self._category_vectors = self.encoder.encode(texts, kind="passage")
        return self._category_vectors

    def need_categories(self, vector: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
        """Affinity of a need vector to each category, and the categories it is tagged with."""
        affinity = category_affinity(self._categories() @ vector)
        order = np.argsort(-affinity, kind="stable")
        tags = tuple(CATEGORIES[i] for i in order if affinity[i] >= NEED_CATEGORY_THRESHOLD)
        return affinity, tags

    @staticmethod
    def _taxonomy_score(affinity: np.ndarray, categories: Sequence[str]) -> float:
        scores = [affinity[CATEGORIES.index(c)] for c in categories if c in CATEGORIES]
        return float(max(scores)) if scores else 0.0

    # -- ranking ----------------------------------------------------------------------------

    def _query_vector(self, side: _Collection, ident: int, text: str) -> np.ndarray:
        """The stored vector of a profile already in the index (same text, same vector as a query), else encode."""
        with self._lock:
            # The text comparison first: an ad-hoc text is never stored, and needs no language check.
            if side.texts.get(ident) == text and reuses_passage_vector(self.encoder, text):
                return side.vectors.vectors([ident])[0]
        return self.encoder.encode([text], kind="query")[0]

    def _candidates(
        self,
        side: _Collection,
        *,
        query_vector: np.ndarray,
        query_text: str,
        depth: int,
        exclude: Collection[int],
        mode: Mode,
        features: Callable[[int], _PairFeatures],
    ) -> CandidateFeatures | None:
        w = self.weights
        dense_scores, dense_ids = side.vectors.search(query_vector, depth)
        dense_scores, dense_ids = dense_scores[0], dense_ids[0]
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
            dense_n=normalise_scores(dense, weights=w),
            lexical_n=normalise_scores(lexical, weights=w, present=present),
            taxonomy=np.array([p.taxonomy for p in pair], dtype=np.float32),
            sector=np.array([p.sector for p in pair], dtype=np.float32),
            violations=np.array([sum(not v.satisfied for v in p.verdicts) for p in pair], dtype=np.float32),
            pair=pair,
        )

    def _rank(
        self,
        side: _Collection,
        *,
        query_vector: np.ndarray,
        query_text: str,
        k: int,
        exclude: Collection[int],
        mode: Mode,
        features: Callable[[int], _PairFeatures],
        priors: Mapping[int, float] | None = None,
        extra: Callable[[list[int]], np.ndarray] | None = None,
    ) -> list[tuple[int, float, ScoreComponents, _PairFeatures]]:
        if not side.records:
            return []
        w = self.weights
        depth = max(w.candidates, 5 * k) + len(exclude)
        found = self._candidates(
            side,
            query_vector=query_vector,
            query_text=query_text,
            depth=depth,
            exclude=exclude,
            mode=mode,
            features=features,
        )
        if found is None:
            return []
        ids, dense, pair = found.ids, found.dense, found.pair
        if mode == "dense":
            fused = dense.astype(np.float32)
        elif mode == "lexical":
            fused = found.lexical
        else:
            total = w.dense + w.lexical + w.taxonomy + w.sector
            fused = (
                w.dense * found.dense_n
                + w.lexical * found.lexical_n
                + w.taxonomy * found.taxonomy
                + w.sector * found.sector
            ) / total - w.constraint_penalty * found.violations
            if priors:
                fused = fused + np.array([priors.get(i, 0.0) for i in ids], dtype=np.float32)
            if extra is not None:
                fused = fused + extra(ids).astype(np.float32)
        lexical_n = found.lexical_n
        order = np.argsort(-fused, kind="stable")[:k]
        ranked = []
        for row in order:
            p = pair[row]
            components = ScoreComponents(
                dense=round(float(dense[row]), 4),
                lexical=round(float(lexical_n[row]), 4),
                taxonomy=round(p.taxonomy, 4),
                sector=p.sector,
                constraint_penalty=round(w.constraint_penalty * sum(not v.satisfied for v in p.verdicts), 4),
            )
            score = float(np.clip(fused[row], 0.0, 1.0)) if mode == "hybrid" else float(fused[row])
            ranked.append((ids[row], round(score, 4), components, p))
        return ranked

    def match_features(self, need: Need, *, query_vector: np.ndarray | None = None) -> CandidateFeatures | None:
        """The hybrid candidate set of `need` with its fusion inputs (for learning from decisions)."""
        text = need_text(need)
        if query_vector is None:
            query_vector = self._query_vector(self._needs, need.id, text)
        affinity, _ = self.need_categories(query_vector)
        with self._lock:
            side = self._technologies
            if not side.records:
                return None
            return self._candidates(
                side,
                query_vector=query_vector,
                query_text=text,
                depth=self.weights.candidates,
                exclude=(),
                mode="hybrid",
                features=lambda i: self._technology_features(need, side.records[i], affinity),
            )

    def _technology_features(self, need: Need, technology: Technology, affinity: np.ndarray) -> _PairFeatures:
        return _PairFeatures(
            taxonomy=self._taxonomy_score(affinity, technology.categories),
            sector=1.0 if need.sector and need.sector in technology.sectors else 0.0,
            verdicts=check_constraints(need.constraints, technology),
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
            query_vector = self._query_vector(self._needs, need.id, text)
        affinity, tags = self.need_categories(query_vector)
        with self._lock:
            side = self._technologies

            def features(technology_id: int) -> _PairFeatures:
                return self._technology_features(need, side.records[technology_id], affinity)

            ranked = self._rank(
                side,
                query_vector=query_vector,
                query_text=text,
                k=k,
                exclude=set(exclude),
                mode=mode,
                features=features,
                priors=self.priors,
                extra=None if self.need_term is None else partial(self.need_term, query_vector, need.id),
            )
            technologies = {i: side.records[i] for i, *_ in ranked}
            texts = {i: side.texts[i] for i in technologies}
        matches = []
        if explain and ranked:
            [need_sentences] = self._sentence_vectors([split_sentences(text)], kind="query")
            technology_sentences = dict(zip(texts, self._passage_sentence_vectors(list(texts.values())), strict=True))
            language = text_language(text, declared=need.lang)
        for rank, (technology_id, score, components, pair) in enumerate(ranked, start=1):
            explanation = None
            if explain:
                explanation = self._explain(
                    score=score,
                    similarity=components.dense,
                    need_text_=text,
                    need_sentences=need_sentences,
                    technology=technologies[technology_id],
                    technology_text_=texts[technology_id],
                    technology_sentences=technology_sentences[technology_id],
                    need_categories=tags,
                    verdicts=pair.verdicts,
                    language=language,
                )
            matches.append(
                Match(
                    need_id=need.id,
                    technology_id=technology_id,
                    rank=rank,
                    score=score,
                    components=components,
                    explanation=explanation,
                )
            )
        return matches

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
        query_vector = self._query_vector(self._technologies, technology.id, text)
        need_tags: dict[int, tuple[str, ...]] = {}
        with self._lock:
            side = self._needs

            def features(need_id: int) -> _PairFeatures:
                affinity, need_tags[need_id] = self.need_categories(side.vectors.vectors([need_id])[0])
                return self._technology_features(side.records[need_id], technology, affinity)

            ranked = self._rank(
                side,
                query_vector=query_vector,
                query_text=text,
                k=k,
                exclude=set(exclude),
                mode=mode,
                features=features,
            )
            needs = {i: side.records[i] for i, *_ in ranked}
            texts = {i: side.texts[i] for i in needs}
        matches = []
        if explain and ranked:
            [technology_sentences] = self._sentence_vectors([split_sentences(text)], kind="passage")
            need_sentences = dict(zip(texts, self._passage_sentence_vectors(list(texts.values())), strict=True))
        for rank, (need_id, score, components, pair) in enumerate(ranked, start=1):
            explanation = None
            if explain:
                explanation = self._explain(
                    score=score,
                    similarity=components.dense,
                    need_text_=texts[need_id],
                    need_sentences=need_sentences[need_id],
                    technology=technology,
                    technology_text_=text,
                    technology_sentences=technology_sentences,
                    need_categories=need_tags[need_id],
                    verdicts=pair.verdicts,
                )
            matches.append(
                Match(
                    need_id=need_id,
                    technology_id=technology.id,
                    rank=rank,
                    score=score,
                    components=components,
                    explanation=explanation,
                )
            )
        return matches

    # -- explanations -----------------------------------------------------------------------

    def _sentence_vectors(
        self, groups: list[list[str]], *, kind: Literal["query", "passage"]
    ) -> list[tuple[list[str], np.ndarray]]:
        """(sentences, unit vectors) per group; all uncached sentences go to the encoder in one call."""
        vectors = self.sentence_cache.vectors(self.encoder, groups, kind=kind)
        return list(zip(groups, vectors, strict=True))

    def _passage_sentence_vectors(self, texts: list[str]) -> list[tuple[list[str], np.ndarray]]:
        """Sentences of stored texts with their vectors (the vectors come from the sentence cache)."""
        return self._sentence_vectors([split_sentences(text) for text in texts], kind="passage")

    def _explain(
        self,
        *,
        score: float,
        similarity: float,
        need_text_: str,
        need_sentences: tuple[list[str], np.ndarray],
        technology: Technology,
        technology_text_: str,
        technology_sentences: tuple[list[str], np.ndarray],
        need_categories: tuple[str, ...],
        verdicts: tuple[ConstraintVerdict, ...],
        language: str = "en",
    ):
        pairs = align_sentences(need_sentences[0], need_sentences[1], technology_sentences[0], technology_sentences[1])
        return build_explanation(
            score=score,
            similarity=similarity,
            technology_title=technology.title,
            need_text=need_text_,
            technology_text=technology_text_,
            sentence_pairs=pairs,
            need_categories=need_categories,
            technology_categories=technology.categories,
            verdicts=verdicts,
            language=language,
        )
