"""Calibration: a pair's evidence score as the probability that the offering solves the need's core problem.

The probability is sigmoid(intercept + scale * evidence), fitted by logistic regression (Platt
scaling) on labelled pairs: grade 2 or 3 in the benchmark format counts as solving, anything else
as not. Because evidence never depends on the other candidates, neither does the probability: the
same number means the same thing for every need, catalogue and tenant, and it cannot saturate at 1.

The same probability names the strength of a match and the verdict on a whole list (matching.ranking.bands).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

# No pair is certain: a score stops at 0.99 (its log-odds at logit(0.99)), so 1.00 is never shown,
# however much evidence piles up (say, a one-word need that an offering repeats).
CEILING = 0.99
CEILING_LOG_ODDS = math.log(CEILING / (1.0 - CEILING))


@dataclass(frozen=True, slots=True)
class Calibration:
    """probability = sigmoid(intercept + scale * evidence)."""

    scale: float
    intercept: float

    def logit(self, evidence: np.ndarray) -> np.ndarray:
        return self.intercept + self.scale * np.asarray(evidence, dtype=np.float64)

    def probability(self, evidence: np.ndarray) -> np.ndarray:
        return np.asarray(expit(self.logit(evidence)), dtype=np.float64)

    def as_dict(self) -> dict[str, float]:
        return {"scale": self.scale, "intercept": self.intercept}


# Fitted on the shipped demo catalogue's labels with the default model and weights
# (`python scripts/tune_fusion.py data/demo --calibrate`); for another model the service fits its
# own at start-up from the same labels (app/learning/service.py).
DEFAULT_CALIBRATION = Calibration(scale=5.5191, intercept=-7.8552)


def fit_calibration(evidence: Sequence[float] | np.ndarray, solves: Sequence[bool] | np.ndarray) -> Calibration:
    """Logistic regression of `solves` on `evidence` (maximum likelihood with a faint pull toward 0,
    so that data one threshold separates perfectly still gives finite numbers)."""
    x = np.asarray(evidence, dtype=np.float64)
    y = np.asarray(solves, dtype=np.float64)
    if len(x) != len(y) or not len(x):
        raise ValueError("evidence and labels must be non-empty and of the same length")
    if y.min() == y.max():
        raise ValueError("calibration needs pairs that solve and pairs that do not")

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        intercept, scale = params
        z = intercept + scale * x
        p = expit(z)
        value = float(np.sum(np.logaddexp(0.0, z) - y * z)) + 1e-3 * 0.5 * scale * scale
        residual = p - y
        return value, np.array([residual.sum(), residual @ x + 1e-3 * scale])

    result = minimize(loss, np.array([0.0, 1.0]), jac=True, method="L-BFGS-B")
    intercept, scale = (float(v) for v in result.x)
    return Calibration(scale=round(scale, 4), intercept=round(intercept, 4))
