"""A reliability diagram: how often offerings scored p turned out to solve the need, against p."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matching.evaluation.metrics import calibration_errors, reliability


def reliability_diagram(
    probabilities: Sequence[float], outcomes: Sequence[bool], path: Path, *, title: str, bins: int = 10
) -> None:
    """Write a PNG: observed share per probability bin against the diagonal, and how many pairs each bin holds."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    rows = reliability(probabilities, outcomes, bins=bins)
    errors = calibration_errors(probabilities, outcomes, bins=bins)
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(5.5, 6.5), gridspec_kw={"height_ratios": [3, 1]}, sharex=True, constrained_layout=True
    )
    top.plot([0, 1], [0, 1], linestyle="--", color="#888888", linewidth=1, label="perfectly calibrated")
    top.plot(
        [r["mean_probability"] for r in rows],
        [r["observed"] for r in rows],
        marker="o",
        color="#1f5fa8",
        label="techmatch",
    )
    top.set_ylabel("share that solves the need")
    top.set_ylim(0, 1)
    top.set_title(f"{title}\nECE {errors['ece']:.3f}, Brier {errors['brier']:.3f}, {errors['pairs']} pairs")
    top.legend(loc="upper left")
    top.grid(alpha=0.3)
    width = 1.0 / bins
    bottom.bar([r["low"] + width / 2 for r in rows], [r["count"] for r in rows], width=width * 0.9, color="#9bb7d4")
    bottom.set_xlabel("score (probability that the offering solves the need)")
    bottom.set_ylabel("pairs")
    bottom.set_xlim(0, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
