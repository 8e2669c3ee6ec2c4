from matching.retrieval.bm25 import LexicalIndex, tokenize


def test_tokenize_stems_and_drops_stop_words():
    assert tokenize("The welders are welding 2000 parts") == ["welder", "weld", "part"]


def test_bm25_ranks_shared_terms_first_and_follows_removals():
    index = LexicalIndex()
    index.upsert([1, 2, 3], ["robot welding cell", "bakery demand forecasting", "laser welding of steel"])
    _, ids = index.search("welding robots", 3)
    assert ids.tolist()[0] == 1
    assert set(ids.tolist()) == {1, 3}
    index.remove([1])
    _, ids = index.search("welding robots", 3)
    assert ids.tolist() == [3]


def test_no_shared_term_gives_no_result():
    index = LexicalIndex()
    index.upsert([1], ["robot welding cell"])
    assert index.search("bread", 5)[1].tolist() == []
    assert LexicalIndex().search("anything", 5)[1].tolist() == []
