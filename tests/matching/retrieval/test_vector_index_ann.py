import faiss
import numpy as np
import pytest

from matching.errors import IndexMismatchError
from matching.retrieval import vector_index
from matching.retrieval.vector_index import FLAT_KIND, HNSW_KIND, IndexMeta, VectorIndex
from matching.retrieval.vector_store import VectorStore

DIM = 32


def clustered(n: int, *, seed: int = 0, centres: int = 40, spread: float = 0.6) -> np.ndarray:
    """A normalised mixture of Gaussians: what sentence embeddings of a catalogue look like, roughly."""
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(centres, DIM))
    points = means[rng.integers(0, centres, n)] + rng.normal(scale=spread, size=(n, DIM))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    return points.astype(np.float32)


def meta(count: int) -> IndexMeta:
    return IndexMeta(model="m", dimension=DIM, count=count, catalogue_version=1)


def test_both_kinds_are_vector_stores():
    assert isinstance(VectorIndex(DIM), VectorStore)
    assert isinstance(VectorIndex.for_size(DIM, count=600, ann_threshold=500), VectorStore)


def test_kind_follows_size():
    data = clustered(600)
    small = VectorIndex.build(DIM, ids=np.arange(100), vectors=data[:100], ann_threshold=500)
    large = VectorIndex.build(DIM, ids=np.arange(600), vectors=data, ann_threshold=500)
    assert small.kind == FLAT_KIND
    assert large.kind == HNSW_KIND
    assert len(large) == 600
    assert sorted(large.ids().tolist()) == list(range(600))


def test_growing_past_the_threshold_moves_to_hnsw_and_keeps_every_vector():
    data = clustered(700, seed=1)
    index = VectorIndex(DIM, ann_threshold=500)
    index.upsert(np.arange(400) + 1000, data[:400])
    assert index.kind == FLAT_KIND
    index.upsert(np.arange(400, 700) + 1000, data[400:])
    assert index.kind == HNSW_KIND
    np.testing.assert_allclose(index.vectors([1000, 1699]), data[[0, 699]], atol=0.002)
    scores, ids = index.search(data[10], 1)
    assert ids[0][0] == 1010
    assert scores[0][0] == pytest.approx(1.0, abs=0.002)


def test_recall_at_10_against_exact_search():
    data = clustered(3200, seed=2)
    base, queries = data[:3000], data[3000:]
    ann = VectorIndex.build(DIM, ids=np.arange(3000), vectors=base, ann_threshold=500)
    exact = VectorIndex.build(DIM, ids=np.arange(3000), vectors=base, ann_threshold=10_000)
    assert (ann.kind, exact.kind) == (HNSW_KIND, FLAT_KIND)
    _, found = ann.search(queries, 10)
    _, truth = exact.search(queries, 10)
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
    assert recall >= 0.95


def test_scores_of_given_ids_are_the_cosines():
    data = clustered(800, seed=5)
    index = VectorIndex.build(DIM, ids=np.arange(800) * 3, vectors=data, ann_threshold=500)
    scores = index.scores(data[0], [0, 30, 2397])
    np.testing.assert_allclose(scores, data[[0, 10, 799]] @ data[0], atol=0.002)
    with pytest.raises(IndexMismatchError):
        index.scores(data[0], [1])


def test_remove_and_update_on_the_hnsw_index():
    data = clustered(1000, seed=3)
    index = VectorIndex.build(DIM, ids=np.arange(1000), vectors=data, ann_threshold=500)
    assert index.remove([5, 6, 123_456]) == 2
    assert len(index) == 998
    assert index.tombstones == 2
    assert 5 not in index.ids()
    _, ids = index.search(data[5], 10)
    assert 5 not in ids[0] and -1 not in ids[0]
    with pytest.raises(IndexMismatchError):
        index.vectors([5])
    # Update: id 7 takes the vector of id 900, so a search for that vector finds both.
    index.upsert([7], data[[900]])
    assert len(index) == 998
    np.testing.assert_allclose(index.vectors([7])[0], data[900], atol=0.002)
    _, ids = index.search(data[900], 2)
    assert set(ids[0].tolist()) == {7, 900}
    # Removed again and re-added: the id is live once, wherever its last vector is.
    index.remove([7])
    index.upsert([7], data[[7]])
    assert sorted(index.ids().tolist()).count(7) == 1
    assert index.search(data[7], 1)[1][0][0] == 7


def test_tombstones_past_a_quarter_rebuild_the_graph(monkeypatch):
    monkeypatch.setattr(vector_index, "COMPACT_MIN", 10)
    data = clustered(900, seed=6)
    index = VectorIndex.build(DIM, ids=np.arange(600), vectors=data[:600], ann_threshold=500)
    before = index.vectors([599])
    index.remove(range(100))
    assert index.tombstones == 100
    # 70 replacements bring the tombstones to 170, past a quarter of the 670 rows: rebuilt.
    index.upsert(np.arange(100, 170), data[600:670])
    assert index.tombstones == 0
    assert len(index) == 500
    assert sorted(index.ids().tolist()) == list(range(100, 600))
    np.testing.assert_array_equal(index.vectors([599]), before)
    assert index.search(data[600], 1)[1][0][0] == 100


def test_save_and_load_keep_the_kind_the_tombstones_and_refuse_a_mismatch(tmp_path):
    data = clustered(800, seed=4)
    index = VectorIndex.build(DIM, ids=np.arange(800), vectors=data, ann_threshold=500)
    index.remove([1, 2])
    index.save(tmp_path, name="technologies", meta=meta(798))
    saved = (tmp_path / "technologies.meta.json").read_text()
    assert '"kind": "hnsw-fp16-ip"' in saved
    loaded = VectorIndex.load(tmp_path, name="technologies", expected=meta(798), ann_threshold=500)
    assert loaded.kind == HNSW_KIND
    assert (len(loaded), loaded.tombstones) == (798, 2)
    _, before = index.search(data[:5], 5)
    _, after = loaded.search(data[:5], 5)
    np.testing.assert_array_equal(before, after)
    assert 1 not in after and 2 not in after
    # Removal and updates still work after a round trip (the reverse map is rebuilt from the id map).
    assert loaded.remove([0]) == 1
    loaded.upsert([3], data[[10]])
    assert loaded.search(data[10], 2)[1][0].tolist() in ([3, 10], [10, 3])
    (tmp_path / "technologies.meta.json").write_text(saved.replace("hnsw-fp16-ip", "flat-ip"))
    with pytest.raises(IndexMismatchError, match="holds a hnsw-fp16-ip index"):
        VectorIndex.load(tmp_path, name="technologies", expected=meta(798))


def test_an_ivf_file_of_the_previous_format_is_refused(tmp_path):
    # Saved by the version before HNSW (format 2, IVF-SQ8): rebuilt from the stored vectors at start.
    ivf = faiss.IndexIVFScalarQuantizer(
        faiss.IndexFlatIP(DIM), DIM, 16, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    data = clustered(800, seed=7)
    ivf.train(data)
    ivf.add_with_ids(data, np.arange(800))
    (tmp_path / "needs.faiss").write_bytes(faiss.serialize_index(ivf).tobytes())
    (tmp_path / "needs.meta.json").write_text(
        '{"model": "m", "dimension": 32, "count": 800, "catalogue_version": 1, "kind": "ivf-sq8-ip", '
        '"built_at": "", "format_version": 2}'
    )
    with pytest.raises(IndexMismatchError, match="format_version is 2"):
        VectorIndex.load(tmp_path, name="needs", expected=meta(800))
    (tmp_path / "needs.meta.json").write_text((tmp_path / "needs.meta.json").read_text().replace('": 2}', '": 3}'))
    with pytest.raises(IndexMismatchError, match="not an index techmatch writes"):
        VectorIndex.load(tmp_path, name="needs", expected=meta(800))
