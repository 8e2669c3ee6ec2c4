"""What a probability is called: the strength of one match and the verdict on a list (no numpy: settings read it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

Strength = Literal["strong", "good", "possible", "weak"]
Fit = Literal["good", "weak", "none"]
FITS: tuple[Fit, ...] = ("good", "weak", "none")

# Strength of one match by its probability: at least 0.6 "strong", 0.4 "good", the nothing-fits
# threshold "possible", below it "weak" (not shown as a match). The list verdict follows the best
# match: "good" when it is good or strong, "weak" when only possible ones pass, "none" otherwise.
STRONG = 0.6
GOOD = 0.4
# Below this probability no offering is presented as a match. Chosen on the demo catalogue as the
# highest threshold that wrongly says "nothing fits" for at most 10% of the needs a catalogue offering
# solves (9.2% there; 40% of its off-topic needs then get "nothing fits"): turning away an SME whose
# problem has a solution costs more than a weak suggestion a curator declines
# (scripts/tune_fusion.py data/demo --thresholds). A setting: TECHMATCH_MATCH_THRESHOLD.
NOTHING_FITS_THRESHOLD = 0.12


def strength(probability: float, *, threshold: float = NOTHING_FITS_THRESHOLD) -> Strength:
    """The word for one match's probability (the bands above)."""
    if probability >= STRONG:
        return "strong"
    if probability >= GOOD:
        return "good"
    if probability >= threshold:
        return "possible"
    return "weak"


def fit_of(probabilities: Sequence[float], *, threshold: float = NOTHING_FITS_THRESHOLD) -> Fit:
    """The verdict on a list: how good its best match is."""
    best = max(probabilities, default=0.0)
    if best < threshold:
        return "none"
    return "good" if best >= GOOD else "weak"
