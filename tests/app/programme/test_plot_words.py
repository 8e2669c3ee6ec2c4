"""The dashboard's bars name categories and sectors in the page's language, the needs without one too."""

from __future__ import annotations

from app.programme.plots import category_names, sector_names
from app.programme.schemas import CountRow


def test_bars_name_categories_and_sectors_in_the_pages_language() -> None:
    categories = [
        CountRow(key="cobots", label="collaborative robots", count=3),
        CountRow(key="unknown", label="", count=1),
    ]
    assert category_names(categories, "en") == ["collaborative robots", "not indexed"]
    assert category_names(categories, "da") == ["samarbejdende robotter", "ikke indekseret"]
    sectors = [CountRow(key="food", label="food", count=2), CountRow(key="unknown", label="unknown", count=1)]
    assert sector_names(sectors, "en") == ["food", "unknown"]
    assert sector_names(sectors, "da") == ["fødevarer", "ukendt"]
