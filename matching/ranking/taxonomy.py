"""Taxonomy: a need's affinity to the categories, from its vector and our category descriptions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources

import numpy as np

from matching.encoders.base import Encoder
from matching.types import CATEGORIES

# A need is tagged with a category when its affinity reaches this share of the best category's.
NEED_CATEGORY_THRESHOLD = 0.5


def category_affinity(similarities: np.ndarray, *, top: int = 3) -> np.ndarray:
    """Category similarities -> weights in [0, 1]: the best category 1, the `top`-th's floor 0."""
    if not len(similarities):
        return similarities
    order = np.sort(similarities)[::-1]
    floor = order[min(top, len(order) - 1)]
    best = order[0]
    if best - floor < 1e-9:
        return np.zeros_like(similarities)
    affinity: np.ndarray = np.clip((similarities - floor) / (best - floor), 0.0, 1.0).astype(np.float32)
    return affinity


class Taxonomy:
    """The categories' description vectors (encoded once, on first use) and a need's affinity to them."""

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder
        self._vectors: np.ndarray | None = None

    def _category_vectors(self) -> np.ndarray:
        if self._vectors is None:
            source = resources.files("matching").joinpath("resources/categories.json")
            descriptions = json.loads(source.read_text("utf-8"))
            texts = [f"{name.replace('-', ' ')}: {descriptions[name]}" for name in CATEGORIES]
            self._vectors = self._encoder.encode(texts, kind="passage")
        return self._vectors

    def need_categories(self, vector: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
        """Affinity of a need vector to each category, and the categories it is tagged with."""
        affinity = category_affinity(self._category_vectors() @ vector)
        order = np.argsort(-affinity, kind="stable")
        tags = tuple(CATEGORIES[i] for i in order if affinity[i] >= NEED_CATEGORY_THRESHOLD)
        return affinity, tags


def taxonomy_score(affinity: np.ndarray, categories: Sequence[str]) -> float:
    """The need's affinity for the best of an offering's categories (0 when it has none we know)."""
    scores = [affinity[CATEGORIES.index(c)] for c in categories if c in CATEGORIES]
    return float(max(scores)) if scores else 0.0
