"""Fixtures shared by the engine and service tests."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def mini_dir() -> Path:
    """A tiny invented data set in the benchmark format (see fixtures/mini/README.md)."""
    return FIXTURES / "mini"
