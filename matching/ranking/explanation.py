"""Explanations a person can check: the parties' own sentences side by side, shared terms and categories,
each constraint's verdict, and one line in the reader's language whose strength word follows the score."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np

from matching.encoders.base import Encoder, TextKind
from matching.language.wording import category_label, wording_language
from matching.ranking.bands import NOTHING_FITS_THRESHOLD, strength
from matching.ranking.competences import competence_gap
from matching.ranking.constraints import check_constraints
from matching.ranking.scoring import Scored
from matching.retrieval.bm25 import surface_forms
from matching.retrieval.sentence_cache import SentenceCache
from matching.retrieval.texts import own_text, split_sentences
from matching.types import ConstraintVerdict, Explanation, Need, SentencePair, Technology

MAX_PAIRS = 3
MAX_TERMS = 8
_QUOTE_CHARS = 90

# The one-line summary. A match is written to the SME, in the language it wrote its need in; a lead is
# written to the provider, in English.
_MATCH: dict[str, dict[str, str]] = {
    "en": {
        "strong": "Strong match",
        "good": "Good match",
        "possible": "Possible match",
        "weak": "Weak match",
        "head": "{strength}: {title}, {percent} likely to solve the problem",
        "sentences": 'you wrote "{need}" and the offering says "{technology}"',
        "categories": "both about {categories}",
        "but": "but {failed}",
        "fits": "fits every stated constraint",
        "gap": "your people would need to learn {gap}",
        "no_gap": "your people have the skills it needs",
    },
    "da": {
        "strong": "Stærkt match",
        "good": "Godt match",
        "possible": "Muligt match",
        "weak": "Svagt match",
        "head": "{strength}: {title}, {percent} sandsynligt at den løser problemet",
        "sentences": 'I skrev "{need}", og tilbuddet siger "{technology}"',
        "categories": "begge handler om {categories}",
        "but": "men {failed}",
        "fits": "opfylder alle angivne krav",
        "gap": "jeres medarbejdere skal lære {gap}",
        "no_gap": "jeres medarbejdere har de kompetencer, den kræver",
    },
}
_LEAD: dict[str, str] = {
    "strong": "Strong lead",
    "good": "Good lead",
    "possible": "Possible lead",
    "weak": "Weak lead",
    "head": '{strength}: {company} needs "{need_title}"; {percent} likely that {title} solves it',
    "sentences": 'they wrote "{need}" and your offering says "{technology}"',
    "categories": "both about {categories}",
    "but": "but {failed}",
    "fits": "fits every constraint they stated",
    "gap": "their people would need to learn {gap}",
    "no_gap": "their people have the skills it needs",
}


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


def shared_terms(
    need_text: str, technology_text: str, *, common: Collection[str] = (), limit: int = MAX_TERMS
) -> tuple[str, ...]:
    """Words the two texts share after stemming, in the need's own spelling and order; stop words and
    the stems in `common` (words most of the catalogue uses) are left out, since they explain nothing."""
    technology_stems = set(surface_forms(technology_text)) - set(common)
    terms = [form.lower() for stem, form in surface_forms(need_text).items() if stem in technology_stems]
    return tuple(terms[:limit])


def evidence_text(title: str, description: str) -> str:
    """The text quoted as evidence: the description (a title names, it does not explain), else the title."""
    return description.strip() or title.strip()


def _quote(sentence: str) -> str:
    sentence = sentence.strip().rstrip(".")
    if len(sentence) <= _QUOTE_CHARS:
        return sentence
    return sentence[: _QUOTE_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _percent(probability: float, language: str) -> str:
    value = round(100 * probability)
    return f"{value} %" if language == "da" else f"{value}%"


def summarise(
    *,
    score: float,
    technology_title: str,
    sentence_pairs: Sequence[SentencePair],
    shared_categories: Sequence[str],
    verdicts: Sequence[ConstraintVerdict],
    language: str = "en",
    threshold: float = NOTHING_FITS_THRESHOLD,
    lead_company: str | None = None,
    need_title: str = "",
    competences: Sequence[str] = (),
    competence_gap: Sequence[str] = (),
) -> str:
    """One line in plain words: how likely the offering solves the problem, which of the parties' own
    sentences match, what the two share, what the SME's people would have to learn, what breaks a
    constraint. A lead (`lead_company` given) is written to the provider about the SME; a match to the
    SME about the offering. Competences are quoted as the provider wrote them."""
    lead = lead_company is not None
    language = "en" if lead else wording_language(language)
    words = _LEAD if lead else _MATCH[language]
    head = words["head"].format(
        strength=words[strength(score, threshold=threshold)],
        title=technology_title,
        percent=_percent(score, language),
        company=lead_company,
        need_title=_quote(need_title),
    )
    parts = [head]
    if sentence_pairs:
        best = sentence_pairs[0]
        parts.append(
            words["sentences"].format(need=_quote(best.need_sentence), technology=_quote(best.technology_sentence))
        )
    if shared_categories:
        labels = ", ".join(category_label(c, language) for c in shared_categories)
        parts.append(words["categories"].format(categories=labels))
    if competence_gap:
        parts.append(words["gap"].format(gap=", ".join(competence_gap)))
    elif competences:
        parts.append(words["no_gap"])
    failed = [v.detail for v in verdicts if not v.satisfied]
    if failed:
        parts.append(words["but"].format(failed="; ".join(failed)))
    elif verdicts:
        parts.append(words["fits"])
    return "; ".join(parts) + "."


SentenceGroup = tuple[list[str], np.ndarray]


class Explainer:
    """Explanations for ranked pairs; each sentence is encoded once, not once per request that shows it."""

    def __init__(self, encoder: Encoder, *, threshold: float = NOTHING_FITS_THRESHOLD) -> None:
        self.encoder = encoder
        self.sentence_cache = SentenceCache(dimension=encoder.dimension)
        # The nothing-fits threshold: the lowest probability called a "possible" match.
        self.threshold = threshold

    def sentence_vectors(self, texts: Sequence[str], *, kind: TextKind) -> list[SentenceGroup]:
        """(sentences, unit vectors) per text; all uncached sentences go to the encoder in one call."""
        groups = [split_sentences(text) for text in texts]
        vectors = self.sentence_cache.vectors(self.encoder, groups, kind=kind)
        return list(zip(groups, vectors, strict=True))

    def for_need(
        self,
        *,
        need: Need,
        language: str,
        need_categories: tuple[str, ...],
        ranked: Sequence[Scored],
        technologies: Mapping[int, Technology],
        common: Collection[str] = (),
    ) -> dict[int, Explanation]:
        """Technology id -> explanation written to the SME, for the technologies ranked for one need."""
        if not ranked:
            return {}
        [need_sentences] = self.sentence_vectors([evidence_text(need.title, need.description)], kind="query")
        ids = [r.id for r in ranked]
        offers = [technologies[i] for i in ids]
        groups = self.sentence_vectors([evidence_text(t.title, t.description) for t in offers], kind="passage")
        return {
            r.id: self._explain(
                scored=r,
                need=need,
                need_sentences=need_sentences,
                technology=technology,
                technology_sentences=group,
                need_categories=need_categories,
                language=language,
                common=common,
            )
            for r, technology, group in zip(ranked, offers, groups, strict=True)
        }

    def for_technology(
        self,
        *,
        technology: Technology,
        ranked: Sequence[Scored],
        needs: Mapping[int, Need],
        need_categories: Mapping[int, tuple[str, ...]],
        common: Collection[str] = (),
    ) -> dict[int, Explanation]:
        """Need id -> explanation written to the provider, for the needs ranked as leads of one technology."""
        if not ranked:
            return {}
        [technology_sentences] = self.sentence_vectors(
            [evidence_text(technology.title, technology.description)], kind="passage"
        )
        asked = [needs[r.id] for r in ranked]
        groups = self.sentence_vectors([evidence_text(n.title, n.description) for n in asked], kind="passage")
        return {
            r.id: self._explain(
                scored=r,
                need=need,
                need_sentences=group,
                technology=technology,
                technology_sentences=technology_sentences,
                need_categories=need_categories[r.id],
                language="en",
                common=common,
                lead=True,
            )
            for r, need, group in zip(ranked, asked, groups, strict=True)
        }

    def _explain(
        self,
        *,
        scored: Scored,
        need: Need,
        need_sentences: SentenceGroup,
        technology: Technology,
        technology_sentences: SentenceGroup,
        need_categories: tuple[str, ...],
        language: str,
        common: Collection[str],
        lead: bool = False,
    ) -> Explanation:
        language = wording_language(language)
        pairs = align_sentences(need_sentences[0], need_sentences[1], technology_sentences[0], technology_sentences[1])
        # Worded again for the reader: the ranking counted the verdicts, the reader reads them.
        verdicts = check_constraints(need.constraints, technology, language=language)
        shared_categories = tuple(c for c in need_categories if c in technology.categories)
        gap = competence_gap(technology.competences, need.skills)
        summary = summarise(
            score=scored.score,
            technology_title=technology.title,
            sentence_pairs=pairs,
            shared_categories=shared_categories,
            verdicts=verdicts,
            language=language,
            threshold=self.threshold,
            lead_company=(need.company_name or "an SME") if lead else None,
            need_title=need.title,
            competences=technology.competences,
            competence_gap=gap,
        )
        return Explanation(
            summary=summary,
            sentence_pairs=pairs,
            shared_terms=shared_terms(
                own_text(need.title, need.description),
                own_text(technology.title, technology.description),
                common=common,
            ),
            shared_categories=shared_categories,
            need_categories=need_categories,
            constraints=verdicts,
            strength=strength(scored.score, threshold=self.threshold),
            language=language,
            competences=technology.competences,
            competence_gap=gap,
        )
