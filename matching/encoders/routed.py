"""An encoder that routes by language: a fast English model and a multilingual one, side by side in one vector.

Every passage is stored as [english block | multilingual block], each block unit length and the whole
scaled to unit length, so one index holds one kind of vector (this encoder's), never a mix of two models.
A query weights the two blocks by its language: an English need is scored mostly by the English model,
a Danish (or German, ...) need only by the multilingual one, since the English model cannot read it.
The inner product of a query and a passage is then a weighted sum of the two models' cosines.

Without a multilingual model ("<english>+glossary") the vectors are the English model's own, and a
Danish query is glossed word by word into English (matching/glossary.py) before the English model reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from matching.encoders.base import Encoder, TextKind, normalise, reuses_passage_vector
from matching.errors import EncoderError
from matching.language.detection import detect_language
from matching.language.detection import preload as preload_language_detector
from matching.language.glossary import GLOSSED_LANGUAGES, gloss

GLOSSARY = "glossary"


@dataclass(frozen=True, slots=True)
class RouteWeights:
    """Share of the multilingual block in a query's score, per query language (the rest is the English block).

    English needs are ranked by the English model alone (share 0): exactly the MiniLM ranking, and no
    multilingual encoding at query time. Other languages use the multilingual model alone. `unknown`
    applies when the language cannot be told (very short texts), where both models get a say.
    `passage` is the multilingual block's share in stored vectors: it only sets the scale of the
    similarity an explanation shows (English cosines x0.9, multilingual ones x0.44, since E5's cosines
    sit high), because a query with share 0 or 1 ranks the same under any passage share.
    """

    english: float = 0.0
    other: float = 1.0
    unknown: float = 0.5
    passage: float = 0.19


class RoutedEncoder:
    """Implements the Encoder protocol over two encoders; see the module docstring for the vector layout."""

    def __init__(
        self,
        *,
        english: Encoder,
        multilingual: Encoder | None,
        weights: RouteWeights | None = None,
        detect: Callable[[str], str | None] = detect_language,
    ) -> None:
        self.english = english
        self.multilingual = multilingual
        self.weights = weights or RouteWeights()
        self._detect = detect
        self.name = f"{english.name}+{multilingual.name if multilingual else GLOSSARY}"
        self.dimension = english.dimension + (multilingual.dimension if multilingual else 0)
        self.symmetric = False

    def query_equals_passage(self, text: str) -> bool:
        """Without a multilingual model, a text that is not glossed is encoded alike as query and passage."""
        return (
            self.multilingual is None
            and reuses_passage_vector(self.english, text)
            and self._detect(text) not in GLOSSED_LANGUAGES
        )

    def share(self, language: str | None) -> float:
        """The multilingual block's share for a query in `language` (None: not known)."""
        if self.multilingual is None:
            return 0.0
        if language is None:
            return self.weights.unknown
        return self.weights.english if language == "en" else self.weights.other

    def encode(
        self,
        texts: Sequence[str],
        *,
        kind: TextKind = "passage",
        batch_size: int = 64,
        show_progress: bool = False,
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if kind == "passage":
            languages: list[str | None] = [None] * len(texts)
            shares = np.full(len(texts), self.weights.passage)
        else:
            languages = [self._detect(text) for text in texts]
            shares = np.array([self.share(language) for language in languages])
        # The English model reads a Danish query through the glossary; other texts as they are.
        english_texts = [
            gloss(text) if kind == "query" and language in GLOSSED_LANGUAGES else text
            for text, language in zip(texts, languages, strict=True)
        ]
        english = self._block(self.english, english_texts, shares < 1.0, kind, batch_size, show_progress)
        if self.multilingual is None:
            return english
        return self.combine(
            english=english,
            multilingual=self._block(self.multilingual, texts, shares > 0.0, kind, batch_size, show_progress),
            shares=shares,
        )

    def _block(
        self,
        encoder: Encoder,
        texts: Sequence[str],
        needed: np.ndarray,
        kind: TextKind,
        batch_size: int,
        show_progress: bool,
    ) -> np.ndarray:
        # A query whose share for this model is zero is not encoded by it at all: that is the speed win.
        out = np.zeros((len(texts), encoder.dimension), dtype=np.float32)
        rows = np.flatnonzero(needed)
        if len(rows):
            out[rows] = encoder.encode(
                [texts[i] for i in rows.tolist()], kind=kind, batch_size=batch_size, show_progress=show_progress
            )
        return out

    @staticmethod
    def combine(*, english: np.ndarray, multilingual: np.ndarray, shares: np.ndarray) -> np.ndarray:
        """[sqrt(1-s) * english | sqrt(s) * multilingual] per row, s the row's share.

        With passages at share p, the inner product with a query of share s is
        sqrt((1-s)(1-p)) * cos_english + sqrt(s p) * cos_multilingual: a weighted sum of cosines.
        """
        shares = np.asarray(shares, dtype=np.float64)[:, None]
        stacked = np.hstack([np.sqrt(1.0 - shares) * normalise(english), np.sqrt(shares) * normalise(multilingual)])
        return normalise(stacked)


def load_routed(name: str, *, load: Callable[[str], Encoder]) -> RoutedEncoder:
    """'<english model>+<multilingual model>' or '<english model>+glossary', each part loaded by `load`."""
    english_name, _, second = name.rpartition("+")
    if not english_name or not second:
        raise EncoderError(f"model {name!r}: expected '<english model>+<multilingual model or {GLOSSARY!r}>'")
    preload_language_detector()  # every query is routed by its language
    return RoutedEncoder(english=load(english_name), multilingual=None if second == GLOSSARY else load(second))
