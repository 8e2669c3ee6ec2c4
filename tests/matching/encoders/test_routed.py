"""Danish needs: language detection, the glossary, the routed encoder, cross-lingual BM25 and explanations."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from matching.encoders.base import TextKind, reuses_passage_vector
from matching.encoders.batching import MicroBatchingEncoder
from matching.encoders.factory import load_encoder
from matching.encoders.hashing import HashingEncoder
from matching.encoders.routed import RoutedEncoder, RouteWeights
from matching.errors import EncoderError
from matching.language.detection import detect_language, text_language
from matching.language.glossary import cross_lingual_text, gloss, translate_word
from matching.ranking.explanation import summarise
from matching.retrieval.bm25 import LexicalIndex
from matching.types import ConstraintVerdict, Need, SentencePair
from tests.matching.conftest import TECHNOLOGIES, build_matcher

DANISH_BEARINGS = Need(
    id=8,
    title="Lejerne går i stykker uden varsel",
    description=(
        "Vores presselinje stopper to eller tre gange om måneden, fordi et leje går i stykker uden varsel. "
        "Hvert stop koster et helt skift i produktionen. Vi vil gerne vide det, før det sker."
    ),
    lang="en",  # left at the form's default: the text itself says Danish
    sector="metal",
)


class Recording:
    """A deterministic encoder that records what it was asked to encode."""

    def __init__(self, name: str, dimension: int) -> None:
        self._inner = HashingEncoder(dimension=dimension)
        self.name, self.dimension, self.symmetric = name, dimension, True
        self.seen: list[str] = []

    def encode(
        self, texts: Sequence[str], *, kind: TextKind = "passage", batch_size: int = 64, show_progress: bool = False
    ) -> np.ndarray:
        self.seen.extend(texts)
        return self._inner.encode(texts)


# -- language -----------------------------------------------------------------------------------


def test_detects_danish_english_and_german() -> None:
    assert detect_language(DANISH_BEARINGS.description) == "da"
    assert detect_language(TECHNOLOGIES[0].description) == "en"
    assert detect_language("Wir suchen eine Lösung für die Qualitätskontrolle unserer Schweißnähte") == "de"


def test_too_short_to_tell_falls_back_to_the_declared_language() -> None:
    assert detect_language("CNC") is None
    assert text_language("CNC", declared="DA") == "da"
    assert text_language("CNC", declared=None) == "en"
    # The text wins over a declared value that was left at its default.
    assert text_language(DANISH_BEARINGS.description, declared="en") == "da"


# -- glossary -----------------------------------------------------------------------------------


def test_glossary_reads_inflections_and_compounds() -> None:
    assert translate_word("svejsningerne") == "welding"  # definite plural of "svejsning"
    assert translate_word("Maskinerne") == "machine"
    assert translate_word("produktionsplanlægning") == "production planning scheduling"  # linking -s-
    assert translate_word("xyzzy") is None


def test_gloss_drops_danish_stop_words_and_keeps_unknown_words() -> None:
    assert gloss("Vi har revner i svejsningerne på CNC") == "crack welding CNC"


def test_cross_lingual_text_glosses_danish_only() -> None:
    english = TECHNOLOGIES[0].description
    assert cross_lingual_text(english) == english
    danish = DANISH_BEARINGS.description
    glossed = cross_lingual_text(danish)
    assert glossed.startswith(danish) and "bearing" in glossed and "production" in glossed


def test_bm25_finds_english_offers_for_a_danish_need() -> None:
    index = LexicalIndex()
    index.upsert([t.id for t in TECHNOLOGIES], [f"{t.title}\n{t.description}" for t in TECHNOLOGIES])
    _, ids = index.search(f"{DANISH_BEARINGS.title}\n{DANISH_BEARINGS.description}", 5)
    assert ids.tolist()[:2] and set(ids.tolist()[:2]) <= {11, 55}  # the two bearing-monitoring offers


# -- routed encoder -----------------------------------------------------------------------------


def test_passages_hold_both_models_and_queries_are_weighted_by_language() -> None:
    english, multilingual = Recording("en-model", 32), Recording("ml-model", 16)
    encoder = RoutedEncoder(
        english=english, multilingual=multilingual, weights=RouteWeights(english=0.5, other=1.0, passage=0.5)
    )
    assert (encoder.name, encoder.dimension, encoder.symmetric) == ("en-model+ml-model", 48, False)

    texts = [TECHNOLOGIES[0].description]
    passage = encoder.encode(texts)[0]
    np.testing.assert_allclose(passage[:32], english.encode(texts)[0] / np.sqrt(2), atol=1e-6)
    np.testing.assert_allclose(passage[32:], multilingual.encode(texts)[0] / np.sqrt(2), atol=1e-6)

    english.seen.clear()
    danish_query = encoder.encode([DANISH_BEARINGS.description], kind="query")[0]
    # A Danish need is scored by the multilingual model alone; the English model is not even run.
    assert english.seen == []
    assert np.allclose(danish_query[:32], 0.0)
    assert float(danish_query @ passage) == pytest.approx(
        float(multilingual.encode([DANISH_BEARINGS.description])[0] @ multilingual.encode(texts)[0]) / np.sqrt(2),
        abs=1e-5,
    )
    english_query = encoder.encode([TECHNOLOGIES[1].description], kind="query")[0]
    assert np.linalg.norm(english_query[:32]) == pytest.approx(np.sqrt(0.5), abs=1e-5)
    assert np.linalg.norm(english_query) == pytest.approx(1.0, abs=1e-5)


def test_default_routing_ranks_english_needs_by_the_english_model_alone() -> None:
    english, multilingual = Recording("en-model", 32), Recording("ml-model", 16)
    encoder = RoutedEncoder(english=english, multilingual=multilingual)
    texts = [t.description for t in TECHNOLOGIES]
    passages = encoder.encode(texts)
    multilingual.seen.clear()
    query = TECHNOLOGIES[2].description
    scores = passages @ encoder.encode([query], kind="query")[0]
    assert multilingual.seen == []  # no multilingual encoding for an English query
    cosines = english.encode(texts) @ english.encode([query])[0]
    np.testing.assert_allclose(scores, 0.9 * cosines, atol=1e-5)  # the English model's cosines, scaled


def test_glossary_mode_keeps_english_vectors_and_glosses_danish_queries() -> None:
    english = Recording("en-model", 32)
    encoder = RoutedEncoder(english=english, multilingual=None)
    assert (encoder.name, encoder.dimension) == ("en-model+glossary", 32)
    texts = [TECHNOLOGIES[0].description]
    np.testing.assert_allclose(encoder.encode(texts), english.encode(texts), atol=1e-6)
    english.seen.clear()
    encoder.encode([DANISH_BEARINGS.description], kind="query")
    assert english.seen == [gloss(DANISH_BEARINGS.description)]


def test_glossary_mode_reuses_stored_vectors_of_texts_it_does_not_gloss() -> None:
    """A stored English profile is its own query vector; a Danish one is glossed, so it is encoded again."""
    english = Recording("en-model", 32)
    glossary = RoutedEncoder(english=english, multilingual=None)
    assert reuses_passage_vector(glossary, TECHNOLOGIES[0].description)
    assert not reuses_passage_vector(glossary, DANISH_BEARINGS.description)
    routed = RoutedEncoder(english=english, multilingual=Recording("ml-model", 16))
    assert not reuses_passage_vector(routed, TECHNOLOGIES[0].description)  # queries keep one block only
    batched = MicroBatchingEncoder(glossary)  # what the service wraps its encoder in
    try:
        assert reuses_passage_vector(batched, TECHNOLOGIES[0].description)
        assert not reuses_passage_vector(batched, DANISH_BEARINGS.description)
    finally:
        batched.close()

    matcher = build_matcher(glossary)
    english.seen.clear()
    matcher.leads(TECHNOLOGIES[0], k=2, explain=False)
    assert TECHNOLOGIES[0].description not in " ".join(english.seen)


def test_load_encoder_builds_routed_encoders_by_name() -> None:
    encoder = load_encoder("hashing+glossary")
    assert isinstance(encoder, RoutedEncoder) and encoder.dimension == 256
    with pytest.raises(EncoderError):
        load_encoder("+glossary")


# -- explanations -------------------------------------------------------------------------------


def test_summary_template_follows_the_smes_language() -> None:
    pair = SentencePair(
        need_sentence="Lejerne går i stykker uden varsel", technology_sentence="Sensors warn", similarity=0.6
    )
    verdicts = (ConstraintVerdict(name="budget", satisfied=True, detail="within budget"),)
    danish = summarise(
        score=0.71,
        technology_title="Vibration monitoring",
        sentence_pairs=[pair],
        shared_categories=["predictive-maintenance"],
        verdicts=verdicts,
        language="da",
    )
    assert danish == (
        "Stærkt match: Vibration monitoring, 71 % sandsynligt at den løser problemet; "
        'I skrev "Lejerne går i stykker uden varsel", og tilbuddet siger "Sensors warn"; '
        "begge handler om forudsigende vedligehold; opfylder alle angivne krav."
    )
    english = summarise(
        score=0.71,
        technology_title="Vibration monitoring",
        sentence_pairs=[pair],
        shared_categories=["predictive-maintenance"],
        verdicts=verdicts,
        language="de",  # no German template yet
    )
    assert english.startswith("Strong match: Vibration monitoring, 71% likely to solve the problem; you wrote ")


def test_danish_need_gets_a_danish_summary_from_the_matcher() -> None:
    matches = build_matcher(load_encoder("hashing+glossary")).match(DANISH_BEARINGS, k=3)
    assert matches[0].technology_id in {11, 55}
    explanation = matches[0].explanation
    assert explanation.language == "da"
    assert "sandsynligt at den løser problemet" in explanation.summary and 'I skrev "' in explanation.summary


@pytest.mark.slow
def test_cross_lingual_sentence_alignment_with_the_multilingual_model() -> None:
    """With the bundled multilingual model, a Danish need ranks the English bearing offers first and the
    summary quotes the Danish sentence next to the English sentence that answers it."""
    matcher = build_matcher(load_encoder("multilingual-e5-small"))
    matches = matcher.match(DANISH_BEARINGS, k=3)
    assert {m.technology_id for m in matches[:2]} == {11, 55}
    best = matches[0].explanation
    assert best.sentence_pairs
    top = best.sentence_pairs[0]
    assert top.need_sentence in DANISH_BEARINGS.description or top.need_sentence == DANISH_BEARINGS.title
    assert "bearing" in top.technology_sentence.lower() or "downtime" in top.technology_sentence.lower()
    assert f'I skrev "{top.need_sentence[:40]}' in best.summary and "tilbuddet siger" in best.summary
