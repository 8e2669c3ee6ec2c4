"""Query helpers every repository shares: IN (...) lists in chunks under the bound-parameter limit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

# Stays under every database's limit on bound parameters in one IN (...).
IN_CHUNK = 500

ItemT = TypeVar("ItemT")


def chunks(items: Sequence[ItemT], size: int = IN_CHUNK) -> Iterable[Sequence[ItemT]]:
    """`items` in slices of `size`, for IN (...) lists that stay under the bound-parameter limit."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
