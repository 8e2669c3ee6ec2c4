"""Pure ranking functions: constraint verdicts, score normalisation and fusion weights."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from matching.types import DANISH_REGIONS, Constraints, ConstraintVerdict, Technology

Normalisation = Literal["minmax", "rrf"]

LANGUAGE_NAMES = {
    "da": "Danish",
    "en": "English",
    "de": "German",
    "sv": "Swedish",
    "no": "Norwegian",
    "nl": "Dutch",
    "fi": "Finnish",
    "fr": "French",
    "pl": "Polish",
}
REGION_NAMES = {
    "DK-81": "North Denmark",
    "DK-82": "Central Denmark",
    "DK-83": "Southern Denmark",
    "DK-84": "the Capital Region",
    "DK-85": "Zealand",
    "DK": "Denmark",
    "DE": "Germany",
    "SE": "Sweden",
    "NO": "Norway",
    "NL": "the Netherlands",
    "EU": "Europe",
}


@dataclass(frozen=True, slots=True)
class RankingWeights:
    """How the score components combine.

    Defaults come from a grid search on the dev benchmark (scripts/tune_fusion.py --grid); the
    surface is flat around them (nDCG@10 within 0.01 for neighbouring values).
    """

    dense: float = 0.6
    lexical: float = 0.4
    taxonomy: float = 0.1
    sector: float = 0.1
    constraint_penalty: float = 0.1
    normalisation: Normalisation = "minmax"
    rrf_k: int = 60
    candidates: int = 100


def region_served(region: str, regions_served: tuple[str, ...]) -> bool:
    """FORMAT.md's rule: the exact code, its country ("DK" covers DK-81..85), or "EU" covers it."""
    if not regions_served:
        return True
    if region in regions_served or "EU" in regions_served:
        return True
    return region in DANISH_REGIONS and "DK" in regions_served


def _eur(amount: int) -> str:
    return f"{amount:,} EUR"


def _languages(codes: tuple[str, ...]) -> str:
    return ", ".join(LANGUAGE_NAMES.get(c, c) for c in codes)


def check_constraints(constraints: Constraints, technology: Technology) -> tuple[ConstraintVerdict, ...]:
    """One verdict per stated constraint, each naming the numbers it compared."""
    verdicts: list[ConstraintVerdict] = []
    budget = constraints.budget_eur_max
    if budget is not None:
        price = technology.price_min_eur
        if price is None:
            verdicts.append(ConstraintVerdict("budget", True, f"no price stated; budget {_eur(budget)}"))
        elif price > budget:
            verdicts.append(
                ConstraintVerdict("budget", False, f"price from {_eur(price)} is above the budget of {_eur(budget)}")
            )
        else:
            verdicts.append(
                ConstraintVerdict("budget", True, f"price from {_eur(price)} is within the budget of {_eur(budget)}")
            )
    if constraints.min_trl is not None:
        trl = technology.trl
        if trl is None:
            verdicts.append(ConstraintVerdict("min_trl", True, f"TRL not stated; minimum TRL {constraints.min_trl}"))
        else:
            ok = trl >= constraints.min_trl
            verdicts.append(
                ConstraintVerdict(
                    "min_trl",
                    ok,
                    f"TRL {trl} is {'at or above' if ok else 'below'} the required {constraints.min_trl}",
                )
            )
    if constraints.region is not None:
        region = constraints.region
        name = REGION_NAMES.get(region, region)
        served = ", ".join(technology.regions_served) or "anywhere"
        ok = region_served(region, technology.regions_served)
        verdicts.append(
            ConstraintVerdict(
                "region",
                ok,
                f"serves {name} ({region})" if ok else f"does not serve {name} ({region}); serves {served}",
            )
        )
    if constraints.languages:
        wanted = tuple(constraints.languages)
        offered = technology.languages
        shared = tuple(c for c in wanted if c in offered)
        if not offered or shared:
            detail = f"offered in {_languages(shared or wanted)}"
            verdicts.append(ConstraintVerdict("languages", True, detail))
        else:
            verdicts.append(
                ConstraintVerdict(
                    "languages",
                    False,
                    f"not offered in {_languages(wanted)}; offered in {_languages(offered)}",
                )
            )
    return tuple(verdicts)


def minmax(scores: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] over the candidate set; a constant vector maps to zeros (no signal)."""
    if not len(scores):
        return scores.astype(np.float32)
    low, high = float(scores.min()), float(scores.max())
    if high - low < 1e-9:
        return np.zeros_like(scores, dtype=np.float32)
    return ((scores - low) / (high - low)).astype(np.float32)


def reciprocal_ranks(scores: np.ndarray, *, k: int, present: np.ndarray | None = None) -> np.ndarray:
    """1 / (k + rank) by descending score, scaled so rank 1 gives 1; absent candidates give 0."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.float32)
    ranks[order] = np.arange(1, len(scores) + 1, dtype=np.float32)
    out = (k + 1) / (k + ranks)
    if present is not None:
        out = np.where(present, out, 0.0)
    return out.astype(np.float32)


def normalise_scores(scores: np.ndarray, *, weights: RankingWeights, present: np.ndarray | None = None) -> np.ndarray:
    if weights.normalisation == "rrf":
        return reciprocal_ranks(scores, k=weights.rrf_k, present=present)
    return minmax(scores)


def category_affinity(similarities: np.ndarray, *, top: int = 3) -> np.ndarray:
    """Category similarities -> weights in [0, 1]: the best category 1, the `top`-th's floor 0."""
    if not len(similarities):
        return similarities
    order = np.sort(similarities)[::-1]
    floor = order[min(top, len(order) - 1)]
    best = order[0]
    if best - floor < 1e-9:
        return np.zeros_like(similarities)
    return np.clip((similarities - floor) / (best - floor), 0.0, 1.0).astype(np.float32)
