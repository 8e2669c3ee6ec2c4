import numpy as np
import pytest

from matching.errors import IndexMismatchError
from matching.retrieval.vector_index import FLAT_KIND, IVF_KIND, IndexMeta, VectorIndex, ivf_lists, ivf_probes
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


def test_kind_follows_size():
    data = clustered(600)
    small = VectorIndex.build(DIM, ids=np.arange(100), vectors=data[:100], ann_threshold=500)
    large = VectorIndex.build(DIM, ids=np.arange(600), vectors=data, ann_threshold=500)
    assert small.kind == FLAT_KIND
    assert large.kind == IVF_KIND
    assert len(large) == 600
    assert sorted(large.ids().tolist()) == list(range(600))


def test_growing_past_the_threshold_moves_to_ivf_and_keeps_every_vector():
    data = clustered(700, seed=1)
    index = VectorIndex(DIM, ann_threshold=500)
    index.upsert(np.arange(400) + 1000, data[:400])
    assert index.kind == FLAT_KIND
    index.upsert(np.arange(400, 700) + 1000, data[400:])
    assert index.kind == IVF_KIND
    np.testing.assert_allclose(index.vectors([1000, 1699]), data[[0, 699]], atol=0.02)
    scores, ids = index.search(data[10], 1)
    assert ids[0][0] == 1010
    assert scores[0][0] == pytest.approx(1.0, abs=0.02)


def test_recall_at_10_against_exact_search():
    data = clustered(3200, seed=2)
    base, queries = data[:3000], data[3000:]
    ann = VectorIndex.build(DIM, ids=np.arange(3000), vectors=base, ann_threshold=500)
    exact = VectorIndex.build(DIM, ids=np.arange(3000), vectors=base, ann_threshold=10_000)
    assert (ann.kind, exact.kind) == (IVF_KIND, FLAT_KIND)
    _, found = ann.search(queries, 10)
    _, truth = exact.search(queries, 10)
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
    assert recall >= 0.95


def test_remove_and_update_on_the_ivf_index():
    data = clustered(1000, seed=3)
    index = VectorIndex.build(DIM, ids=np.arange(1000), vectors=data, ann_threshold=500)
    assert index.remove([5, 6, 123_456]) == 2
    assert len(index) == 998
    _, ids = index.search(data[5], 10)
    assert 5 not in ids[0]
    with pytest.raises(IndexMismatchError):
        index.vectors([5])
    # Update: id 7 takes the vector of id 900, so a search for that vector finds both.
    index.upsert([7], data[[900]])
    assert len(index) == 998
    np.testing.assert_allclose(index.vectors([7])[0], data[900], atol=0.02)
    _, ids = index.search(data[900], 2)
    assert set(ids[0].tolist()) == {7, 900}


def test_save_and_load_keep_the_kind_and_refuse_a_mismatch(tmp_path):
    data = clustered(800, seed=4)
    index = VectorIndex.build(DIM, ids=np.arange(800), vectors=data, ann_threshold=500)
    index.save(tmp_path, name="technologies", meta=meta(800))
    saved = (tmp_path / "technologies.meta.json").read_text()
    assert '"kind": "ivf-sq8-ip"' in saved
    loaded = VectorIndex.load(tmp_path, name="technologies", expected=meta(800), ann_threshold=500)
    assert loaded.kind == IVF_KIND
    _, before = index.search(data[:5], 5)
    _, after = loaded.search(data[:5], 5)
    np.testing.assert_array_equal(before, after)
    # Removal still works after a round trip (the id hash table is saved with the index).
    assert loaded.remove([0]) == 1
    (tmp_path / "technologies.meta.json").write_text(saved.replace("ivf-sq8-ip", "flat-ip"))
    with pytest.raises(IndexMismatchError, match="holds a ivf-sq8-ip index"):
        VectorIndex.load(tmp_path, name="technologies", expected=meta(800))


def test_list_and_probe_counts_grow_with_size():
    assert ivf_lists(100_000) == 316
    assert ivf_lists(1_000_000) == 1000
    assert ivf_probes(1000) == 15
    assert ivf_probes(8192) == 128
    assert ivf_probes(16) == 8


def test_both_kinds_are_vector_stores():
    assert isinstance(VectorIndex(DIM), VectorStore)
    large = VectorIndex.build(DIM, ids=np.arange(600), vectors=clustered(600), ann_threshold=500)
    assert isinstance(large, VectorStore)


def test_scores_of_given_ids_are_the_cosines():
    data = clustered(800, seed=5)
    index = VectorIndex.build(DIM, ids=np.arange(800) * 3, vectors=data, ann_threshold=500)
    np.testing.assert_allclose(index.scores(data[0], [0, 30, 2397]), data[[0, 10, 799]] @ data[0], atol=0.02)
    with pytest.raises(IndexMismatchError):
        index.scores(data[0], [1])
