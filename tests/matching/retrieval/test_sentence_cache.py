"""Explanation sentence vectors: encoded once per sentence across matches, bounded, same result as fresh encoding."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from matching.encoders.base import Encoder, TextKind, normalise
from matching.encoders.hashing import HashingEncoder
from matching.retrieval.sentence_cache import SentenceCache
from matching.retrieval.texts import own_text, split_sentences, technology_text
from tests.matching.conftest import BEARING_NEED, TECHNOLOGIES, build_matcher


class RecordingEncoder:
    """Wraps an encoder and records every call (texts and kind)."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.symmetric = inner.symmetric
        self.calls: list[tuple[TextKind, list[str]]] = []

    def encode(
        self, texts: Sequence[str], *, kind: TextKind = "passage", batch_size: int = 64, show_progress: bool = False
    ) -> np.ndarray:
        self.calls.append((kind, list(texts)))
        return self.inner.encode(texts, kind=kind, batch_size=batch_size, show_progress=show_progress)

    def encoded(self, kind: TextKind) -> list[str]:
        return [text for call_kind, texts in self.calls if call_kind == kind for text in texts]


def test_technology_sentences_are_encoded_once_across_many_matches():
    encoder = RecordingEncoder(HashingEncoder())
    matcher = build_matcher(encoder)
    matcher.need_categories(np.zeros(encoder.dimension, np.float32))  # encodes the category descriptions once
    encoder.calls.clear()
    first = matcher.match(BEARING_NEED, k=len(TECHNOLOGIES))
    calls_first = len(encoder.calls)
    passages_first = encoder.encoded("passage")
    for _ in range(20):
        again = matcher.match(BEARING_NEED, k=len(TECHNOLOGIES))
        assert [m.explanation for m in again] == [m.explanation for m in first]
    # Every sentence of each candidate's own text (title and description): the sentence cosines of the
    # best candidates need them, and the explanations quote from the same cached vectors.
    every_sentence = {s for t in TECHNOLOGIES for s in split_sentences(own_text(t.title, t.description))}
    # The first match encoded every technology sentence, each once and all in one call ...
    assert sorted(passages_first) == sorted(every_sentence)
    assert [kind for kind, _ in encoder.calls[:calls_first]].count("passage") == 1
    # ... and the 20 later matches none: only their query went to the encoder.
    assert encoder.encoded("passage") == passages_first
    assert all(first.explanation.sentence_pairs for first in first)


def test_cached_vectors_equal_fresh_ones_and_survive_a_rebuild():
    encoder = RecordingEncoder(HashingEncoder())
    matcher = build_matcher(encoder)
    before = matcher.match(BEARING_NEED, k=3)
    matcher.catalogue.build(
        technologies=TECHNOLOGIES,
        technology_vectors=matcher.encode_technologies(TECHNOLOGIES),
        needs=[BEARING_NEED],
        need_vectors=matcher.encode_needs([BEARING_NEED]),
    )
    encoder.calls.clear()
    after = matcher.match(BEARING_NEED, k=3)
    assert [m.explanation for m in after] == [m.explanation for m in before]
    assert encoder.encoded("passage") == []  # keyed by text: a rebuilt index keeps the vectors
    sentences = split_sentences(technology_text(TECHNOLOGIES[0]))
    [cached] = matcher.sentence_cache.vectors(encoder, [sentences], kind="passage")
    np.testing.assert_allclose(cached, normalise(HashingEncoder().encode(sentences, kind="passage")), atol=1e-6)


def test_a_changed_technology_text_is_encoded_again():
    encoder = RecordingEncoder(HashingEncoder())
    matcher = build_matcher(encoder)
    matcher.match(BEARING_NEED, k=len(TECHNOLOGIES))
    changed = replace(TECHNOLOGIES[0], description="Acoustic leak detection for compressed air lines in plants.")
    matcher.catalogue.upsert_technologies([changed], matcher.encode_technologies([changed]))
    encoder.calls.clear()
    matcher.match(BEARING_NEED, k=len(TECHNOLOGIES))
    assert "Acoustic leak detection for compressed air lines in plants." in " ".join(encoder.encoded("passage"))


def test_the_cache_is_bounded_and_drops_the_least_recently_used():
    encoder = RecordingEncoder(HashingEncoder())
    dimension = encoder.dimension
    cache = SentenceCache(dimension=dimension, max_bytes=3 * dimension * 4)
    assert cache.max_sentences == 3
    cache.vectors(encoder, [["alpha one", "beta two"], ["gamma three"]], kind="passage")
    assert len(encoder.calls) == 1 and len(cache) == 3
    cache.vectors(encoder, [["alpha one"]], kind="passage")  # a hit: alpha becomes the most recent
    cache.vectors(encoder, [["delta four"]], kind="passage")  # beta, the least recent, is dropped
    assert len(cache) == 3
    encoder.calls.clear()
    cache.vectors(encoder, [["alpha one", "gamma three", "delta four"]], kind="passage")
    assert encoder.calls == []
    cache.vectors(encoder, [["beta two"]], kind="passage")
    assert encoder.encoded("passage") == ["beta two"]
    # Kinds are separate entries (an asymmetric model encodes queries and passages differently).
    encoder.calls.clear()
    cache.vectors(encoder, [["beta two"]], kind="query")
    assert encoder.encoded("query") == ["beta two"]


def test_duplicate_and_empty_groups():
    encoder = RecordingEncoder(HashingEncoder())
    cache = SentenceCache(dimension=encoder.dimension)
    same, empty, twice = cache.vectors(encoder, [["one sentence here"], [], ["one sentence here"] * 2], kind="passage")
    assert encoder.encoded("passage") == ["one sentence here"]
    assert empty.shape == (0, encoder.dimension)
    np.testing.assert_array_equal(twice[0], same[0])
    np.testing.assert_array_equal(twice[1], same[0])


def test_saved_vectors_come_back_for_the_same_model_only(tmp_path):
    encoder = RecordingEncoder(HashingEncoder())
    cache = SentenceCache(dimension=encoder.dimension)
    groups = [["Sensors warn before a bearing fails.", "Repairs are planned."], ["Bread waste falls."]]
    fresh = cache.vectors(encoder, groups, kind="passage")
    path = tmp_path / "sentences.npz"
    assert cache.save(path, model=encoder.name) == 3

    restored = SentenceCache(dimension=encoder.dimension)
    assert restored.load(path, model=encoder.name) == 3
    encoder.calls.clear()
    again = restored.vectors(encoder, groups, kind="passage")
    assert encoder.calls == []  # nothing encoded again
    for before, after in zip(fresh, again, strict=True):
        np.testing.assert_array_equal(before, after)

    # Another model's vectors, a damaged file, a missing one: nothing is taken, nothing fails.
    assert SentenceCache(dimension=encoder.dimension).load(path, model="another-model") == 0
    (tmp_path / "damaged.npz").write_bytes(b"not a zip file")
    assert SentenceCache(dimension=encoder.dimension).load(tmp_path / "damaged.npz", model=encoder.name) == 0
    assert SentenceCache(dimension=encoder.dimension).load(tmp_path / "missing.npz", model=encoder.name) == 0
    assert SentenceCache(dimension=encoder.dimension + 1).load(path, model=encoder.name) == 0
