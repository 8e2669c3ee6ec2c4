"""Learning from decisions: re-weighted fusion, votes of similar needs and per-technology priors.

A decision is a curator's approve or reject, or an engagement's outcome (adopted, or declined for a
reason about the fit), which weighs more (OUTCOME_WEIGHT): what happened after an introduction says
more about a pair than what a curator expected of it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

from matching.matcher import Matcher
from matching.ranking.calibration import Calibration
from matching.ranking.features import CandidateFeatures
from matching.ranking.fusion import RankingWeights, lexical_term

# 2: absolute features and a calibration (version 1 models were fitted on min-max normalised scores).
MODEL_VERSION = 2
# Columns of a feature row. "lexical" is the coverage as the evidence uses it (`lexical_term`);
# "constraints" is minus the number of violated constraints, so every weight is non-negative;
# "prior" is a technology's smoothed approve log-odds.
FEATURES: tuple[str, ...] = (
    "dense",
    "sentence",
    "lexical",
    "taxonomy",
    "sector",
    "constraints",
    "prior",
    "neighbours",
)
# The evidence features proper (weights that sum to 1 in the fit), then the constraint penalty.
WEIGHTED = 5
PARTS: tuple[str, ...] = ("weights", "priors", "neighbours")
# What is learned unless asked otherwise. Priors are left out: on the dev benchmark they lost on
# most held-out halves (docs/learning.md, "Measured").
DEFAULT_PARTS: tuple[str, ...] = ("weights", "neighbours")
FUSION_FIELDS: tuple[str, ...] = ("dense", "sentence", "lexical", "taxonomy", "sector", "constraint_penalty")
# Pseudo-decisions at the overall approve rate added to each technology: a technology needs several
# decisions before its prior moves far from 0.
PRIOR_STRENGTH = 5.0
# Pull toward the default weights: each decided need weighs 1 in the loss, so a few needs change
# little and many needs change more (see fit).
REGULARISATION = 100.0
INITIAL_SCALE = 10.0
MAX_SCALE = 1000.0
_SUM_OF_FUSION = np.array([1.0] * WEIGHTED + [0.0] * (len(FEATURES) - WEIGHTED + 1))
# How many of the most similar decided needs vote on a need's candidates.
NEIGHBOURS = 10
# What one decision weighs in the fit: a curator's approve or reject 1, an engagement's outcome
# (adopted; declined for a reason about the fit) this much. Measured with `techmatch eval-feedback
# --outcome-share` (docs/learning.md); 3 gained more than 1 and about as much as 5 on the dev set.
CURATOR_WEIGHT = 1.0
OUTCOME_WEIGHT = 3.0


@dataclass(frozen=True, slots=True)
class Decision:
    """A verdict on one (need, technology) pair: a curator's, or an engagement's outcome (`weight` above 1)."""

    need_id: int
    technology_id: int
    approved: bool
    weight: float = CURATOR_WEIGHT


@dataclass(frozen=True, slots=True)
class NeedExamples:
    """One need's decided technologies with their fusion features (FEATURES without "prior").

    `weights` is what each decision weighs (None: every one CURATOR_WEIGHT).
    """

    need_id: int
    technology_ids: tuple[int, ...]
    features: np.ndarray
    approved: np.ndarray
    weights: np.ndarray | None = None

    def decision_weights(self) -> np.ndarray:
        if self.weights is None:
            return np.full(len(self.technology_ids), CURATOR_WEIGHT)
        return np.asarray(self.weights, dtype=np.float64)


def need_examples(
    *,
    need_id: int,
    candidates: CandidateFeatures,
    decisions: Mapping[int, bool],
    weights: RankingWeights | None = None,
    decision_weights: Mapping[int, float] | None = None,
) -> NeedExamples | None:
    """The decided technologies found in the need's candidate set; None when there are none.

    `decision_weights` gives a technology's decision a weight other than CURATOR_WEIGHT (an outcome)."""
    weights = weights or RankingWeights()
    rows = [row for row, ident in enumerate(candidates.ids) if ident in decisions]
    if not rows:
        return None
    index = np.array(rows)
    features = np.column_stack(
        [
            candidates.dense[index],
            candidates.sentence[index],
            lexical_term(candidates.lexical[index], weights),
            candidates.taxonomy[index],
            candidates.sector[index],
            -candidates.violations[index],
        ]
    ).astype(np.float64)
    ids = tuple(candidates.ids[r] for r in rows)
    return NeedExamples(
        need_id=need_id,
        technology_ids=ids,
        features=features,
        approved=np.array([decisions[i] for i in ids], dtype=bool),
        weights=None
        if not decision_weights
        else np.array([decision_weights.get(i, CURATOR_WEIGHT) for i in ids], dtype=np.float64),
    )


def _total(weights: RankingWeights) -> float:
    return weights.dense + weights.sentence + weights.lexical + weights.taxonomy + weights.sector


def base_vector(weights: RankingWeights) -> np.ndarray:
    """The evidence as one linear model over FEATURES, divided by the sum of the feature weights
    (so the fit can hold that sum at 1 and let its own scale absorb the rest)."""
    total = _total(weights)
    return np.array(
        [
            weights.dense / total,
            weights.sentence / total,
            weights.lexical / total,
            weights.taxonomy / total,
            weights.sector / total,
            weights.constraint_penalty / total,
            0.0,
            0.0,
        ]
    )


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def technology_priors(
    counts: Mapping[int, tuple[int, int]], *, overall: float, strength: float = PRIOR_STRENGTH
) -> dict[int, float]:
    """Technology id -> log-odds of its smoothed approve rate minus that of the overall rate.

    `counts` maps a technology to (approved, decided). With no decisions a prior is 0; it moves
    toward the technology's own rate as decisions accumulate.
    """
    overall = min(max(overall, 1e-3), 1 - 1e-3)
    base = _logit(overall)
    priors = {}
    for technology_id, (approved, decided) in counts.items():
        rate = (approved + strength * overall) / (decided + strength)
        # Rounded as stored, so a model read back ranks exactly as the one learned.
        priors[technology_id] = round(_logit(rate) - base, 6)
    return priors


def _counts(decisions: Iterable[Decision]) -> Counter[tuple[int, bool]]:
    return Counter((d.technology_id, d.approved) for d in decisions)


def _prior_table(counts: Counter[tuple[int, bool]], *, strength: float) -> tuple[dict[int, float], float]:
    per_technology: dict[int, tuple[int, int]] = {}
    for (technology_id, approved), n in counts.items():
        a, d = per_technology.get(technology_id, (0, 0))
        per_technology[technology_id] = (a + (n if approved else 0), d + n)
    decided = sum(d for _, d in per_technology.values())
    overall = sum(a for a, _ in per_technology.values()) / decided if decided else 0.5
    return technology_priors(per_technology, overall=overall, strength=strength), overall


class NeighbourVotes:
    """Votes of similar decided needs: a technology approved for needs like this one scores up, rejected down.

    The score of a candidate is the similarity-weighted mean vote (+1 approved, -1 rejected, times the
    decision's weight: an outcome votes louder) of the `top` decided needs most similar to the query
    (cosine of need vectors), the query need itself left out. Needs written in the same words as each
    other bridge the gap between an SME's words and an offering's. Exact search over the decided needs:
    fine for thousands of them.
    """

    def __init__(
        self,
        *,
        vectors: Mapping[int, np.ndarray],
        decisions: Mapping[int, Mapping[int, bool]],
        top: int = NEIGHBOURS,
        weight: float = 1.0,
        decision_weights: Mapping[int, Mapping[int, float]] | None = None,
    ) -> None:
        self.need_ids = [n for n in sorted(decisions) if n in vectors]
        self.matrix = (
            np.stack([np.asarray(vectors[n], dtype=np.float32) for n in self.need_ids]) if self.need_ids else None
        )
        strength = decision_weights or {}
        self.votes = [
            {t: (1.0 if a else -1.0) * strength.get(n, {}).get(t, CURATOR_WEIGHT) for t, a in decisions[n].items()}
            for n in self.need_ids
        ]
        self.top = top
        self.weight = weight

    def scores(self, query_vector: np.ndarray, need_id: int, ids: Sequence[int]) -> np.ndarray:
        out = np.zeros(len(ids), dtype=np.float64)
        if self.matrix is None:
            return out
        similarities = self.matrix @ query_vector
        order = np.argsort(-similarities, kind="stable")
        chosen = [j for j in order[: self.top + 1] if self.need_ids[j] != need_id][: self.top]
        position = {t: i for i, t in enumerate(ids)}
        total = 0.0
        for j in chosen:
            similarity = max(float(similarities[j]), 0.0)
            total += similarity
            for technology_id, vote in self.votes[j].items():
                row = position.get(technology_id)
                if row is not None:
                    out[row] += similarity * vote
        return out / total if total > 0 else out

    def __call__(self, query_vector: np.ndarray, need_id: int, ids: list[int]) -> np.ndarray:
        return self.weight * self.scores(query_vector, need_id, ids)


@dataclass(frozen=True, slots=True)
class FeedbackModel:
    """A learned ranking: fusion weights, technology priors and what they were learned from.

    `weights` are RankingWeights fields; `prior_weight` multiplies a technology's prior in the
    fused score. Serialised with `as_dict` / `from_dict`; `version` guards the format.
    """

    weights: dict[str, float]
    prior_weight: float
    priors: dict[int, float]
    decisions: int
    approved: int
    needs: int
    trained_at: str
    version: int = MODEL_VERSION
    regularisation: float = REGULARISATION
    prior_strength: float = PRIOR_STRENGTH
    parts: tuple[str, ...] = ("weights", "priors")
    neighbour_weight: float = 0.0
    neighbours: int = NEIGHBOURS
    # Need id -> technology id -> approved: the decisions that vote for similar needs.
    votes: dict[int, dict[int, bool]] = field(default_factory=dict)
    # Need id -> technology id -> weight, for the votes that are not CURATOR_WEIGHT (outcomes).
    vote_weights: dict[int, dict[int, float]] = field(default_factory=dict)
    # Of `decisions`, how many weigh more than a curator's (engagements' outcomes), and of those how many
    # are adoptions.
    outcomes: int = 0
    adopted: int = 0
    notes: dict[str, Any] = field(default_factory=dict)
    # Evidence -> probability, refitted with these weights (None: the calibration in use stays).
    calibration: Calibration | None = None

    def ranking_weights(self, base: RankingWeights | None = None) -> RankingWeights:
        base = base or RankingWeights()
        # Only the fusion fields (FUSION_FIELDS) are learned; the rest of `base` stands.
        learned = self.weights
        return replace(
            base,
            dense=learned.get("dense", base.dense),
            sentence=learned.get("sentence", base.sentence),
            lexical=learned.get("lexical", base.lexical),
            taxonomy=learned.get("taxonomy", base.taxonomy),
            sector=learned.get("sector", base.sector),
            constraint_penalty=learned.get("constraint_penalty", base.constraint_penalty),
        )

    def prior_scores(self) -> dict[int, float]:
        """Technology id -> additive term of the fused score."""
        if not self.prior_weight:
            return {}
        return {t: self.prior_weight * p for t, p in self.priors.items() if p}

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "weights": self.weights,
            "prior_weight": self.prior_weight,
            # JSON object keys are strings.
            "priors": {str(t): p for t, p in sorted(self.priors.items())},
            "decisions": self.decisions,
            "approved": self.approved,
            "needs": self.needs,
            "trained_at": self.trained_at,
            "regularisation": self.regularisation,
            "prior_strength": self.prior_strength,
            "parts": list(self.parts),
            "neighbour_weight": self.neighbour_weight,
            "neighbours": self.neighbours,
            "votes": {str(n): {str(t): a for t, a in sorted(v.items())} for n, v in sorted(self.votes.items())},
            "vote_weights": {
                str(n): {str(t): w for t, w in sorted(v.items())} for n, v in sorted(self.vote_weights.items())
            },
            "outcomes": self.outcomes,
            "adopted": self.adopted,
            "notes": self.notes,
            "calibration": None if self.calibration is None else self.calibration.as_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeedbackModel:
        if data.get("version") != MODEL_VERSION:
            raise ValueError(f"ranking model version {data.get('version')!r}; this code reads {MODEL_VERSION}")
        weights = {k: float(v) for k, v in data["weights"].items()}
        unknown = set(weights) - set(FUSION_FIELDS)
        if unknown:
            raise ValueError(f"unknown ranking weights: {', '.join(sorted(unknown))}")
        return cls(
            weights=weights,
            prior_weight=float(data["prior_weight"]),
            priors={int(t): float(p) for t, p in data["priors"].items()},
            decisions=int(data["decisions"]),
            approved=int(data["approved"]),
            needs=int(data["needs"]),
            trained_at=str(data["trained_at"]),
            regularisation=float(data.get("regularisation", REGULARISATION)),
            prior_strength=float(data.get("prior_strength", PRIOR_STRENGTH)),
            parts=tuple(data.get("parts", ("weights", "priors"))),
            neighbour_weight=float(data.get("neighbour_weight", 0.0)),
            neighbours=int(data.get("neighbours", NEIGHBOURS)),
            votes={int(n): {int(t): bool(a) for t, a in v.items()} for n, v in data.get("votes", {}).items()},
            # Absent in models learned before outcomes counted: every vote then weighs CURATOR_WEIGHT.
            vote_weights={
                int(n): {int(t): float(w) for t, w in v.items()} for n, v in data.get("vote_weights", {}).items()
            },
            outcomes=int(data.get("outcomes", 0)),
            adopted=int(data.get("adopted", 0)),
            notes=dict(data.get("notes", {})),
            calibration=_calibration(data.get("calibration")),
        )


def _calibration(data: Any) -> Calibration | None:
    if data is None:
        return None
    return Calibration(scale=float(data["scale"]), intercept=float(data["intercept"]))


def apply(
    matcher: Matcher,
    model: FeedbackModel | None,
    *,
    base: RankingWeights | None = None,
    calibration: Calibration | None = None,
) -> None:
    """Rank with `model`, or with the defaults (`base`, and `calibration` when given) when it is None."""
    base = base or RankingWeights()
    if model is None:
        matcher.set_ranking(weights=base, priors={}, calibration=calibration)
        return
    need_term = None
    if model.neighbour_weight and model.votes:
        need_term = NeighbourVotes(
            vectors=matcher.catalogue.need_vectors(model.votes),
            decisions=model.votes,
            top=model.neighbours,
            weight=model.neighbour_weight,
            decision_weights=model.vote_weights,
        )
    matcher.set_ranking(
        weights=model.ranking_weights(base),
        priors=model.prior_scores(),
        need_term=need_term,
        calibration=model.calibration or calibration,
    )


def _pairs(
    examples: Sequence[NeedExamples], priors_by_need: Sequence[np.ndarray], votes_by_need: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Approved-minus-rejected feature differences within each need.

    A pair weighs as its stronger decision (an outcome more than a curator's verdict), divided by the
    need's number of pairs: a need decided by curators alone weighs 1 in total, as it always did, and
    a need with outcomes weighs more.
    """
    diffs, weights = [], []
    for example, prior, votes in zip(examples, priors_by_need, votes_by_need, strict=True):
        x = np.column_stack([example.features, prior, votes])
        good, bad = x[example.approved], x[~example.approved]
        if not len(good) or not len(bad):
            continue
        d = (good[:, None, :] - bad[None, :, :]).reshape(-1, x.shape[1])
        strength = example.decision_weights()
        pair_weights = np.maximum(strength[example.approved][:, None], strength[~example.approved][None, :]).ravel()
        diffs.append(d)
        weights.append(pair_weights / len(d))
    if not diffs:
        return np.zeros((0, len(FEATURES))), np.zeros(0)
    return np.concatenate(diffs), np.concatenate(weights)


def _fusion_excess(params: np.ndarray) -> float:
    """How far the feature weights' sum is from 1 (SLSQP holds it at zero)."""
    return float(params[:WEIGHTED].sum()) - 1.0


def _fusion_excess_gradient(params: np.ndarray) -> np.ndarray:
    return _SUM_OF_FUSION


def _objective(
    params: np.ndarray, diffs: np.ndarray, weights: np.ndarray, theta0: np.ndarray, regularisation: float
) -> tuple[float, np.ndarray]:
    """Pairwise logistic loss of the scorer `scale * theta . x`, plus the pull of theta toward theta0."""
    theta, scale = params[:-1], params[-1]
    raw = diffs @ theta
    margin = scale * raw
    miss = weights * expit(-margin)
    delta = theta - theta0
    loss = float(weights @ np.logaddexp(0.0, -margin)) + 0.5 * regularisation * float(delta @ delta)
    grad_theta = -scale * (miss @ diffs) + regularisation * delta
    grad_scale = -float(miss @ raw)
    return loss, np.append(grad_theta, grad_scale)


def fit(
    examples: Sequence[NeedExamples],
    *,
    base: RankingWeights | None = None,
    parts: Sequence[str] = DEFAULT_PARTS,
    vectors: Mapping[int, np.ndarray] | None = None,
    regularisation: float = REGULARISATION,
    prior_strength: float = PRIOR_STRENGTH,
    neighbours: int = NEIGHBOURS,
    now: datetime | None = None,
) -> FeedbackModel:
    """Fit a FeedbackModel to decided needs with a pairwise logistic loss (RankNet with a linear scorer).

    Within each need every approved technology should outscore every rejected one. The scorer is
    `scale * theta . features`: the four fusion weights in theta sum to 1 (as the defaults do, the
    division by their total folded in), all weights are non-negative, and `scale` (free) absorbs
    how sharply scores separate decisions, so the pull of theta toward the defaults
    (`regularisation`) means the same at any data size and decisions the defaults cannot explain
    flatten the scale instead of zeroing the weights. Priors of a need's own technologies are
    computed without that need's decisions, so their weight is learned from how well they predict
    decisions they have not seen; the same holds for the votes of similar needs ("neighbours",
    which needs the decided needs' `vectors`). `parts` picks what is learned, from PARTS.
    """
    base = base or RankingWeights()
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise ValueError(f"unknown parts: {', '.join(sorted(unknown))}")
    decisions = [
        Decision(e.need_id, t, bool(a), float(w))
        for e in examples
        for t, a, w in zip(e.technology_ids, e.approved, e.decision_weights(), strict=True)
    ]
    counts = _counts(decisions)
    priors, _ = _prior_table(counts, strength=prior_strength)
    # A part that is not fitted has its weight pinned at 0 below, so its column stays zeros.
    unused = [np.zeros(len(e.technology_ids)) for e in examples]
    # Leave-one-need-out priors for the training rows.
    held_out_priors = unused
    if "priors" in parts:
        held_out_priors = []
        for example in examples:
            own = _counts(
                Decision(example.need_id, t, bool(a))
                for t, a in zip(example.technology_ids, example.approved, strict=True)
            )
            table, _ = _prior_table(counts - own, strength=prior_strength)
            held_out_priors.append(np.array([table.get(t, 0.0) for t in example.technology_ids]))
    by_need = {e.need_id: dict(zip(e.technology_ids, map(bool, e.approved), strict=True)) for e in examples}
    strength = {
        e.need_id: {t: float(w) for t, w in zip(e.technology_ids, e.weights, strict=True) if w != CURATOR_WEIGHT}
        for e in examples
        if e.weights is not None
    }
    strength = {n: v for n, v in strength.items() if v}
    vectors = vectors or {}
    votes = NeighbourVotes(vectors=vectors, decisions=by_need, top=neighbours, decision_weights=strength)
    # A need's own decisions never vote for it (NeighbourVotes leaves the query need out).
    held_out_votes = unused
    if "neighbours" in parts:
        held_out_votes = [
            votes.scores(vectors[e.need_id], e.need_id, e.technology_ids)
            if e.need_id in vectors
            else np.zeros(len(e.technology_ids))
            for e in examples
        ]
    diffs, pair_weights = _pairs(examples, held_out_priors, held_out_votes)
    theta0 = base_vector(base)
    theta = theta0.copy()
    notes: dict[str, Any] = {"pairs": len(diffs), "needs_with_pairs": round(float(pair_weights.sum()))}
    if len(diffs):
        bounds = [(0.0, None) if "weights" in parts else (t, t) for t in theta0[: WEIGHTED + 1]]
        bounds += [(0.0, None) if part in parts else (0.0, 0.0) for part in ("priors", "neighbours")]
        bounds += [(0.0, MAX_SCALE)]
        result = minimize(
            _objective,
            np.append(theta0, INITIAL_SCALE),
            args=(diffs, pair_weights, theta0, regularisation),
            jac=True,
            method="SLSQP",
            bounds=bounds,
            constraints=[{"type": "eq", "fun": _fusion_excess, "jac": _fusion_excess_gradient}],
            options={"maxiter": 1000},
        )
        if result.success:
            theta = np.clip(result.x[:-1], 0.0, None)
            theta[:WEIGHTED] /= theta[:WEIGHTED].sum()
        notes.update(scale=round(float(result.x[-1]), 4), converged=bool(result.success))
    # Back in the units of RankingWeights (evidence points): the defaults come out exactly as they went in.
    total = _total(base)
    weights = {
        name: round(float(value) * total, 6) for name, value in zip(FUSION_FIELDS, theta[: WEIGHTED + 1], strict=True)
    }
    return FeedbackModel(
        weights=weights,
        prior_weight=round(float(theta[WEIGHTED + 1]) * total, 6) if "priors" in parts else 0.0,
        priors=priors if "priors" in parts else {},
        decisions=len(decisions),
        approved=sum(d.approved for d in decisions),
        needs=len(examples),
        trained_at=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
        regularisation=regularisation,
        prior_strength=prior_strength,
        parts=tuple(p for p in PARTS if p in parts),
        neighbour_weight=round(float(theta[WEIGHTED + 2]) * total, 6) if "neighbours" in parts else 0.0,
        neighbours=neighbours,
        votes=by_need if "neighbours" in parts else {},
        vote_weights=strength if "neighbours" in parts else {},
        outcomes=sum(d.weight > CURATOR_WEIGHT for d in decisions),
        adopted=sum(d.weight > CURATOR_WEIGHT and d.approved for d in decisions),
        notes=notes,
    )
