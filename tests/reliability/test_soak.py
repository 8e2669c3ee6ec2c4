"""Soak: a bounded mixed read/write load on a real server; no 5xx, p99 stable, memory not growing.

TECHMATCH_SOAK_SECONDS makes it longer (default 75); scripts/soak.py runs it by hand.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scripts.soak import run_soak

pytestmark = pytest.mark.server

# Factors, not absolute times: the CI machine's speed is unknown, its stability is what is tested.
P99_FACTOR = 3.0
RSS_GROWTH = 1.20


def test_soak_has_no_server_errors_stable_p99_and_flat_memory(tmp_path: Path) -> None:
    duration = float(os.environ.get("TECHMATCH_SOAK_SECONDS", "75"))
    report = run_soak(duration=duration, interval=duration / 8, clients=4, workdir=tmp_path)
    for point in report.intervals:
        print(point)
    assert report.server_errors == 0, report.first_5xx
    assert report.requests > 100, "the load never got going"
    assert all(point.other_errors == 0 for point in report.intervals), report.intervals
    early, late = report.stable_p99()
    assert late <= P99_FACTOR * early, f"p99 went from {early:.1f} ms to {late:.1f} ms"
    assert report.rss_growth() < RSS_GROWTH, f"RSS grew by x{report.rss_growth():.2f}"
