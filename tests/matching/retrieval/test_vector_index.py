import faiss
import numpy as np
import pytest

from matching.encoders.base import normalise
from matching.errors import IndexMismatchError
from matching.retrieval.vector_index import IndexMeta, VectorIndex


def vectors(n: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    return normalise(np.random.default_rng(seed).normal(size=(n, dim)))


def meta(count: int, **changes) -> IndexMeta:
    return IndexMeta(**{"model": "m", "dimension": 8, "count": count, "catalogue_version": 3, **changes})


def test_search_returns_database_ids_best_first():
    index = VectorIndex(8)
    data = vectors(5)
    index.upsert([101, 205, 307, 409, 511], data)
    scores, ids = index.search(data[2], 3)
    assert ids[0][0] == 307
    assert scores[0][0] == pytest.approx(1.0, abs=1e-5)
    assert list(scores[0]) == sorted(scores[0], reverse=True)


def test_upsert_replaces_and_remove_deletes():
    index = VectorIndex(8)
    data = vectors(3)
    index.upsert([1, 2, 3], data)
    index.upsert([2], data[[0]])
    assert len(index) == 3
    np.testing.assert_allclose(index.vectors([2])[0], data[0], atol=1e-6)
    assert index.remove([1, 99]) == 1
    assert sorted(index.ids().tolist()) == [2, 3]
    _, ids = index.search(data[0], 3)
    assert 1 not in ids[0]


def test_upsert_rejects_wrong_shapes_and_duplicate_ids():
    index = VectorIndex(8)
    with pytest.raises(ValueError):
        index.upsert([1, 2], vectors(3))
    with pytest.raises(ValueError):
        index.upsert([1, 1], vectors(2))


def test_save_and_load_round_trip(tmp_path):
    index = VectorIndex(8)
    data = vectors(4)
    index.upsert([10, 20, 30, 40], data)
    index.save(tmp_path, name="technologies", meta=meta(4))
    loaded = VectorIndex.load(tmp_path, name="technologies", expected=meta(4))
    assert sorted(loaded.ids().tolist()) == [10, 20, 30, 40]
    assert loaded.search(data[3], 1)[1][0][0] == 40


@pytest.mark.parametrize(
    "expected",
    [meta(4, model="other"), meta(4, catalogue_version=4), meta(5), meta(4, dimension=16)],
    ids=["model", "catalogue-version", "count", "dimension"],
)
def test_load_refuses_an_index_that_disagrees(tmp_path, expected):
    index = VectorIndex(8)
    index.upsert([1, 2, 3, 4], vectors(4))
    index.save(tmp_path, name="technologies", meta=meta(4))
    with pytest.raises(IndexMismatchError):
        VectorIndex.load(tmp_path, name="technologies", expected=expected)


def test_load_detects_missing_and_corrupt_files(tmp_path):
    with pytest.raises(IndexMismatchError, match="no saved"):
        VectorIndex.load(tmp_path, name="technologies", expected=meta(0))
    index = VectorIndex(8)
    index.upsert([1, 2], vectors(2))
    index.save(tmp_path, name="technologies", meta=meta(2))
    path = tmp_path / "technologies.faiss"
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(IndexMismatchError, match="corrupt"):
        VectorIndex.load(tmp_path, name="technologies", expected=meta(2))


def test_load_refuses_an_index_of_a_kind_techmatch_does_not_write(tmp_path):
    # A flat index without the id map passes every count and dimension check, but it would answer
    # row numbers as ids (and has no id map to list).
    index = VectorIndex(8)
    index.upsert([10, 20], vectors(2))
    index.save(tmp_path, name="technologies", meta=meta(2))
    plain = faiss.IndexFlatIP(8)
    plain.add(vectors(2))
    (tmp_path / "technologies.faiss").write_bytes(faiss.serialize_index(plain).tobytes())
    with pytest.raises(IndexMismatchError, match="IndexFlatIP"):
        VectorIndex.load(tmp_path, name="technologies", expected=meta(2))
