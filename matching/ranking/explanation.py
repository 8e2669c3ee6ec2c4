"""Explanations a curator can check: aligned sentences, shared terms and categories, verdicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from matching.encoders.base import Encoder, TextKind
from matching.ranking.scoring import Scored
from matching.retrieval.bm25 import surface_forms
from matching.retrieval.sentence_cache import SentenceCache
from matching.retrieval.texts import category_label, split_sentences
from matching.types import ConstraintVerdict, Explanation, SentencePair, Technology

MAX_PAIRS = 3
MAX_TERMS = 8
_QUOTE_CHARS = 90


def align_sentences(
    need_sentences: Sequence[str],
    need_vectors: np.ndarray,
    technology_sentences: Sequence[str],
    technology_vectors: np.ndarray,
    *,
    limit: int = MAX_PAIRS,
) -> tuple[SentencePair, ...]:
    """Best-aligned (need sentence, technology sentence) pairs, each need sentence used once."""
    if not len(need_sentences) or not len(technology_sentences):
        return ()
    similarity = need_vectors @ technology_vectors.T
    pairs: list[SentencePair] = []
    for row in np.argsort(-similarity.max(axis=1), kind="stable")[:limit]:
        col = int(similarity[row].argmax())
        pairs.append(
            SentencePair(
                need_sentence=need_sentences[row],
                technology_sentence=technology_sentences[col],
                similarity=round(float(similarity[row, col]), 4),
            )
        )
    return tuple(pairs)


def shared_terms(need_text: str, technology_text: str, *, limit: int = MAX_TERMS) -> tuple[str, ...]:
    """Words the two texts share after stemming, in the need's own spelling and order."""
    technology_stems = set(surface_forms(technology_text))
    terms = [form.lower() for stem, form in surface_forms(need_text).items() if stem in technology_stems]
    return tuple(terms[:limit])


def _quote(sentence: str) -> str:
    sentence = sentence.strip().rstrip(".")
    if len(sentence) <= _QUOTE_CHARS:
        return sentence
    return sentence[: _QUOTE_CHARS - 1].rsplit(" ", 1)[0] + "…"


# One-line summary wording per language; the SME reads it in the language it wrote in.
_TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "strong": "Strong match",
        "good": "Good match",
        "possible": "Possible match",
        "weak": "Weak match",
        "with": "{strength} ({score:.2f}) with {title}",
        "sentences": 'your "{need}" matches "{technology}"',
        "categories": "both about {categories}",
        "but": "but {failed}",
        "fits": "fits every stated constraint",
    },
    "da": {
        "strong": "Stærkt match",
        "good": "Godt match",
        "possible": "Muligt match",
        "weak": "Svagt match",
        "with": "{strength} ({score:.2f}) med {title}",
        "sentences": 'jeres "{need}" svarer til "{technology}"',
        "categories": "begge handler om {categories}",
        "but": "men {failed}",
        "fits": "opfylder alle angivne krav",
    },
}
_CATEGORY_LABELS_DA = {
    "robotics": "robotter",
    "cobots": "samarbejdende robotter",
    "machine-vision": "machine vision",
    "ai-ml": "AI og maskinlæring",
    "iot-sensors": "IoT-sensorer",
    "predictive-maintenance": "forudsigende vedligehold",
    "digital-twin": "digital tvilling",
    "simulation": "simulering",
    "additive-manufacturing": "3D-print",
    "ar-vr": "AR og VR",
    "mes-erp": "MES og ERP",
    "scheduling-optimisation": "produktionsplanlægning",
    "cybersecurity": "it-sikkerhed",
    "cloud-edge": "cloud og edge",
    "energy-management": "energistyring",
    "logistics-agv": "intern logistik og AGV'er",
    "quality-control": "kvalitetskontrol",
    "plm-cad": "PLM og CAD",
    "data-analytics": "dataanalyse",
    "laser-processing": "laserbearbejdning",
}


def _category(category: str, language: str) -> str:
    if language == "da":
        return _CATEGORY_LABELS_DA.get(category, category_label(category))
    return category_label(category)


def _strength(similarity: float) -> str:
    """Strength key from the absolute semantic similarity, so a best-of-a-bad-lot hit is not called strong."""
    if similarity >= 0.55:
        return "strong"
    if similarity >= 0.4:
        return "good"
    if similarity >= 0.25:
        return "possible"
    return "weak"


def summarise(
    *,
    score: float,
    similarity: float,
    technology_title: str,
    sentence_pairs: Sequence[SentencePair],
    shared_categories: Sequence[str],
    verdicts: Sequence[ConstraintVerdict],
    language: str = "en",
) -> str:
    """One line in plain words, in the SME's language (English when there is no template for it):
    how good, which sentences matched, what breaks a constraint."""
    words = _TEMPLATES.get(language, _TEMPLATES["en"])
    language = language if language in _TEMPLATES else "en"
    parts = [words["with"].format(strength=words[_strength(similarity)], score=score, title=technology_title)]
    if sentence_pairs:
        best = sentence_pairs[0]
        parts.append(
            words["sentences"].format(need=_quote(best.need_sentence), technology=_quote(best.technology_sentence))
        )
    if shared_categories:
        labels = ", ".join(_category(c, language) for c in shared_categories)
        parts.append(words["categories"].format(categories=labels))
    failed = [v.detail for v in verdicts if not v.satisfied]
    if failed:
        parts.append(words["but"].format(failed="; ".join(failed)))
    elif verdicts:
        parts.append(words["fits"])
    return "; ".join(parts) + "."


def build_explanation(
    *,
    score: float,
    similarity: float,
    technology_title: str,
    need_text: str,
    technology_text: str,
    sentence_pairs: tuple[SentencePair, ...],
    need_categories: tuple[str, ...],
    technology_categories: tuple[str, ...],
    verdicts: tuple[ConstraintVerdict, ...],
    language: str = "en",
) -> Explanation:
    shared_categories = tuple(c for c in need_categories if c in technology_categories)
    return Explanation(
        summary=summarise(
            score=score,
            similarity=similarity,
            technology_title=technology_title,
            sentence_pairs=sentence_pairs,
            shared_categories=shared_categories,
            verdicts=verdicts,
            language=language,
        ),
        sentence_pairs=sentence_pairs,
        shared_terms=shared_terms(need_text, technology_text),
        shared_categories=shared_categories,
        need_categories=need_categories,
        constraints=verdicts,
    )


SentenceGroup = tuple[list[str], np.ndarray]


class Explainer:
    """Explanations for ranked pairs; each sentence is encoded once, not once per request that shows it."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.sentence_cache = SentenceCache(dimension=encoder.dimension)

    def _sentence_vectors(self, texts: Sequence[str], *, kind: TextKind) -> list[SentenceGroup]:
        """(sentences, unit vectors) per text; all uncached sentences go to the encoder in one call."""
        groups = [split_sentences(text) for text in texts]
        vectors = self.sentence_cache.vectors(self.encoder, groups, kind=kind)
        return list(zip(groups, vectors, strict=True))

    def for_need(
        self,
        *,
        need_text: str,
        language: str,
        need_categories: tuple[str, ...],
        ranked: Sequence[Scored],
        technologies: Mapping[int, Technology],
        texts: Mapping[int, str],
    ) -> dict[int, Explanation]:
        """Technology id -> explanation, for the technologies ranked for one need."""
        if not ranked:
            return {}
        [need_sentences] = self._sentence_vectors([need_text], kind="query")
        ids = [r.id for r in ranked]
        technology_sentences = dict(
            zip(ids, self._sentence_vectors([texts[i] for i in ids], kind="passage"), strict=True)
        )
        return {
            r.id: self._explain(
                scored=r,
                need_text=need_text,
                need_sentences=need_sentences,
                technology=technologies[r.id],
                technology_text=texts[r.id],
                technology_sentences=technology_sentences[r.id],
                need_categories=need_categories,
                language=language,
            )
            for r in ranked
        }

    def for_technology(
        self,
        *,
        technology: Technology,
        technology_text: str,
        ranked: Sequence[Scored],
        need_texts: Mapping[int, str],
        need_categories: Mapping[int, tuple[str, ...]],
    ) -> dict[int, Explanation]:
        """Need id -> explanation, for the needs ranked as leads of one technology."""
        if not ranked:
            return {}
        [technology_sentences] = self._sentence_vectors([technology_text], kind="passage")
        ids = [r.id for r in ranked]
        need_sentences = dict(
            zip(ids, self._sentence_vectors([need_texts[i] for i in ids], kind="passage"), strict=True)
        )
        return {
            r.id: self._explain(
                scored=r,
                need_text=need_texts[r.id],
                need_sentences=need_sentences[r.id],
                technology=technology,
                technology_text=technology_text,
                technology_sentences=technology_sentences,
                need_categories=need_categories[r.id],
            )
            for r in ranked
        }

    @staticmethod
    def _explain(
        *,
        scored: Scored,
        need_text: str,
        need_sentences: SentenceGroup,
        technology: Technology,
        technology_text: str,
        technology_sentences: SentenceGroup,
        need_categories: tuple[str, ...],
        language: str = "en",
    ) -> Explanation:
        pairs = align_sentences(need_sentences[0], need_sentences[1], technology_sentences[0], technology_sentences[1])
        return build_explanation(
            score=scored.score,
            similarity=scored.components.dense,
            technology_title=technology.title,
            need_text=need_text,
            technology_text=technology_text,
            sentence_pairs=pairs,
            need_categories=need_categories,
            technology_categories=technology.categories,
            verdicts=scored.pair.verdicts,
            language=language,
        )
