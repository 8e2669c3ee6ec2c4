"""Fixtures shared by the engine and service tests."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
WEB = Path(__file__).parent / "web"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test under tests/web drives the browser against a live server (tests/web/conftest.py).
    for item in items:
        if item.path.is_relative_to(WEB):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.server)


@pytest.fixture
def mini_dir() -> Path:
    """A tiny invented data set in the benchmark format (see fixtures/mini/README.md)."""
    return FIXTURES / "mini"
