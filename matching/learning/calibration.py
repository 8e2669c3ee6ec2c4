"""Fitting the calibration: evidence of labelled pairs (a data set's grades, curator decisions) to probability."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from matching.evaluation.datasets import Dataset
from matching.evaluation.metrics import SOLVES
from matching.learning.evaluation import LoadedDataset, load_into
from matching.matcher import Matcher
from matching.ranking.calibration import Calibration, fit_calibration
from matching.ranking.scoring import evidence

# Each need's best candidates by evidence that join the fit, labelled or not: the pairs a person
# would see, and what a score must be calibrated on. Labelled pairs further down join too.
CALIBRATION_DEPTH = 30


@dataclass(frozen=True, slots=True)
class LabelledEvidence:
    """Evidence and outcome (solves the need: graded 2 or 3, or approved by a curator) of labelled pairs."""

    evidence: np.ndarray
    solves: np.ndarray

    @classmethod
    def join(cls, parts: Iterable[LabelledEvidence]) -> LabelledEvidence:
        parts = list(parts)
        return cls(
            evidence=np.concatenate([p.evidence for p in parts]) if parts else np.zeros(0),
            solves=np.concatenate([p.solves for p in parts]).astype(bool) if parts else np.zeros(0, dtype=bool),
        )

    def fit(self) -> Calibration:
        return fit_calibration(self.evidence, self.solves)


def dataset_evidence(loaded: LoadedDataset, *, depth: int = CALIBRATION_DEPTH) -> LabelledEvidence:
    """Each need's top `depth` candidates and its labelled ones, with the evidence under the matcher's
    weights (learned per-technology terms left out: they belong to another catalogue)."""
    matcher, refs = loaded.matcher, loaded.records
    values: list[float] = []
    solves: list[bool] = []
    for need in refs.needs:
        found = matcher.match_features(need, query_vector=loaded.query_vectors[need.id])
        if found is None:
            continue
        labels = loaded.qrels.get(refs.need_refs[need.id], {})
        points = evidence(found, weights=matcher.weights).total
        order = np.argsort(-points, kind="stable")
        chosen = set(order[:depth].tolist())
        chosen |= {row for row, ident in enumerate(found.ids) if refs.technology_refs[ident] in labels}
        for row in sorted(chosen):
            values.append(float(points[row]))
            solves.append(labels.get(refs.technology_refs[found.ids[row]], 0) >= SOLVES)
    return LabelledEvidence(evidence=np.array(values), solves=np.array(solves, dtype=bool))


def calibrate_on(dataset: Dataset, *, matcher: Matcher, batch_size: int = 64) -> LabelledEvidence:
    """The labelled evidence of `dataset`, loaded into a scratch matcher with `matcher`'s encoder and weights."""
    scratch = Matcher(matcher.encoder, weights=matcher.weights)
    return dataset_evidence(load_into(scratch, dataset, batch_size=batch_size))


def decision_evidence(values: Sequence[float], approved: Sequence[bool]) -> LabelledEvidence:
    """Curator decisions as labelled evidence: approved solves, rejected does not."""
    return LabelledEvidence(evidence=np.asarray(values, dtype=np.float64), solves=np.asarray(approved, dtype=bool))
