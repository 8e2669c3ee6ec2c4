"""Saved BM25 indexes: loading one gives the same results as building it; a bad or outdated file is refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matching.encoders.hashing import HashingEncoder
from matching.errors import IndexMismatchError
from matching.matcher import Matcher
from matching.retrieval.bm25 import LexicalIndex
from tests.matching.conftest import BEARING_NEED, TECHNOLOGIES, build_matcher

TEXTS = {
    11: "Robot welding cell for small batches of steel parts",
    12: "Bakery demand forecasting from sales history",
    13: "Laser welding of stainless steel; welders trained on site",
    14: "",  # an empty document keeps its row (bm25s placeholder)
    15: "Vibrationsmåling af lejer i pumper og ventilatorer",  # Danish: glossary terms reach BM25
    16: "Predictive maintenance: vibration sensors on bearings and pumps",
}
QUERIES = ["welding robots", "steel", "vibration on bearings", "lejer", "bread", "sales forecasting demand", ""]


def _built() -> LexicalIndex:
    index = LexicalIndex()
    index.upsert(list(TEXTS), list(TEXTS.values()))
    return index


def _assert_same(left: LexicalIndex, right: LexicalIndex) -> None:
    for query in QUERIES:
        left_scores, left_ids = left.scores(query)
        right_scores, right_ids = right.scores(query)
        assert left_ids.tolist() == right_ids.tolist(), query
        np.testing.assert_array_equal(left_scores, right_scores)
        for k in (1, 3, 10):
            found, found_ids = left.search(query, k)
            again, again_ids = right.search(query, k)
            assert found_ids.tolist() == again_ids.tolist(), query
            np.testing.assert_array_equal(found, again)


def test_saved_and_loaded_gives_identical_results(tmp_path: Path) -> None:
    index = _built()
    path = tmp_path / "technologies.bm25.npz"
    index.save(path, catalogue_version=7)
    loaded = LexicalIndex.load(path, count=len(TEXTS), catalogue_version=7)
    assert len(loaded) == len(TEXTS)
    assert sorted(loaded.ids().tolist()) == sorted(TEXTS)
    assert loaded.search("welding robots", 3)[1].tolist()[0] == 11  # a real ranking, not all zeros
    _assert_same(index, loaded)
    # Saving a loaded index (never unpacked) writes the same index again.
    loaded.save(tmp_path / "again.npz", catalogue_version=7)
    _assert_same(index, LexicalIndex.load(tmp_path / "again.npz", count=len(TEXTS), catalogue_version=7))


def test_writes_after_load_match_writes_on_a_built_index(tmp_path: Path) -> None:
    index = _built()
    index.save(tmp_path / "t.npz", catalogue_version=1)
    loaded = LexicalIndex.load(tmp_path / "t.npz", count=len(TEXTS), catalogue_version=1)
    for target in (index, loaded):
        target.remove([12])
        target.upsert([17, 13], ["bread baking ovens", "laser cutting of aluminium"])
    _assert_same(index, loaded)
    assert loaded.search("bread", 5)[1].tolist() == [17]
    assert loaded.search("welding", 5)[1].tolist() == [11]


def test_empty_index_round_trips(tmp_path: Path) -> None:
    LexicalIndex().save(tmp_path / "e.npz", catalogue_version=3)
    loaded = LexicalIndex.load(tmp_path / "e.npz", count=0, catalogue_version=3)
    assert len(loaded) == 0 and loaded.search("anything", 5)[1].tolist() == []


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("missing", "no saved"),
        ("garbage", "unreadable"),
        ("truncated", "unreadable"),
        ("outdated", "catalogue_version"),
        ("format", "format_version"),
        ("count", "count"),
        ("arrays", "damaged"),
    ],
)
def test_damaged_or_outdated_file_is_refused(tmp_path: Path, damage: str, message: str) -> None:
    path = tmp_path / "t.npz"
    _built().save(path, catalogue_version=5)
    count, version = len(TEXTS), 5
    if damage == "missing":
        path.unlink()
    elif damage == "garbage":
        path.write_bytes(b"\x00garbage" * 50)
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "outdated":
        version = 6
    elif damage == "count":
        count = len(TEXTS) + 1
    else:
        with np.load(path) as saved:
            arrays = {name: saved[name] for name in saved.files}
        if damage == "format":
            arrays["meta"] = np.frombuffer(
                arrays["meta"].tobytes().replace(b'"format_version": 1', b'"format_version": 0'), dtype=np.uint8
            )
        else:
            arrays["offsets"] = arrays["offsets"][:-2]  # arrays that no longer fit together
        with path.open("wb") as handle:
            np.savez(handle, **arrays)
    with pytest.raises(IndexMismatchError, match=message):
        LexicalIndex.load(path, count=count, catalogue_version=version)


def _results(matcher: Matcher, mode: str) -> list[tuple[int, float]]:
    return [(m.technology_id, m.score) for m in matcher.match(BEARING_NEED, k=5, explain=False, mode=mode)]


@pytest.mark.parametrize("damage", ["none", "delete", "garbage", "outdated"])
def test_matcher_loads_bm25_or_rebuilds_a_bad_one(tmp_path: Path, damage: str) -> None:
    built = build_matcher(HashingEncoder())
    built.catalogue.save(tmp_path, catalogue_version=4)
    path = tmp_path / "technologies.bm25.npz"
    assert path.is_file() and (tmp_path / "needs.bm25.npz").is_file()
    if damage == "delete":
        path.unlink()
    elif damage == "garbage":
        path.write_bytes(b"not a zip")
    elif damage == "outdated":
        # vectors at 4, BM25 files from an older catalogue
        built.catalogue.save(tmp_path, catalogue_version=3, vectors=False)

    loaded = Matcher(HashingEncoder())
    rebuilt = loaded.catalogue.load(tmp_path, technologies=TECHNOLOGIES, needs=[BEARING_NEED], catalogue_version=4)
    expected = {"none": [], "delete": ["technologies"], "garbage": ["technologies"]}
    assert rebuilt == expected.get(damage, ["technologies", "needs"])
    for mode in ("hybrid", "lexical"):
        assert _results(loaded, mode) == _results(built, mode) != []
