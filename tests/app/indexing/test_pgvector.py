"""The pgvector backend: the engine's vector store in PostgreSQL, written in the writers' transactions."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

from app.core.database import create_db_engine, create_session_factory, unit_of_work
from app.core.settings import Settings
from app.indexing.pgvector import PgVectorBackend, PgVectorIndex, vector_table
from app.main import create_app
from app.models import Company, Need
from matching.encoders.base import HASHING_MODEL
from matching.errors import IndexMismatchError
from matching.matcher import Matcher
from matching.retrieval.vector_store import VectorStore
from tests.app.databases import SERVER_URL
from tests.app.indexing.test_model_switch import MirrorEncoder
from tests.app.support import CountingEncoder, authorize, counting_matcher, load_mini, started_app

pytestmark = pytest.mark.skipif(SERVER_URL is None, reason="pgvector needs PostgreSQL (scripts/test-postgres.sh)")

DIM = 16


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    created = create_db_engine(database_url)
    yield created
    created.dispose()


def _needs(engine: Engine, count: int) -> list[int]:
    with unit_of_work(create_session_factory(engine)) as session:
        company = Company(name="c")
        session.add(company)
        session.flush()
        needs = [Need(company_id=company.id, title=f"need {i}") for i in range(count)]
        session.add_all(needs)
        session.flush()
        return [n.id for n in needs]


def _unit(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_store_search_scores_vectors_and_removal(engine: Engine) -> None:
    ids = _needs(engine, 50)
    data = _unit(50)
    store = PgVectorIndex(engine, side="needs", model="m", dimension=DIM)
    assert isinstance(store, VectorStore)
    store.upsert(ids, data)
    assert len(store) == 50 and sorted(store.ids().tolist()) == sorted(ids)
    scores, found = store.search(data[3], 5)
    assert found[0][0] == ids[3] and scores[0][0] == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_array_equal(store.vectors([ids[7], ids[2]]), data[[7, 2]])
    np.testing.assert_allclose(store.scores(data[0], [ids[1], ids[0]]), [data[1] @ data[0], 1.0], atol=1e-5)
    with pytest.raises(IndexMismatchError):
        store.scores(data[0], [10**9])
    # Replace, then remove.
    store.upsert([ids[0]], data[[9]])
    assert set(store.search(data[9], 2)[1][0].tolist()) == {ids[0], ids[9]}
    assert store.remove([ids[0], 10**9]) == 1
    assert len(store) == 49
    with pytest.raises(IndexMismatchError):
        store.vectors([ids[0]])


def test_a_vector_never_outlives_its_row(engine: Engine) -> None:
    ids = _needs(engine, 3)
    store = PgVectorIndex(engine, side="needs", model="m", dimension=DIM)
    store.upsert(ids, _unit(3))
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM needs WHERE id = :id"), {"id": ids[1]})
    assert sorted(store.ids().tolist()) == sorted([ids[0], ids[2]])
    # An upsert after its row was deleted (a write's after-commit step losing a race) stores nothing.
    store.upsert([ids[1]], _unit(1))
    assert len(store) == 2


def test_sync_writes_what_changed_and_makes_the_hnsw_index(engine: Engine) -> None:
    ids = _needs(engine, 30)
    texts = [f"text {i}" for i in range(30)]
    backend = PgVectorBackend(engine, model="m", dimension=DIM)
    asked: list[int] = []

    def vectors_for(wanted):
        asked.extend(wanted)
        return _unit(len(wanted), seed=len(asked))

    factory = create_session_factory(engine)
    with unit_of_work(factory) as session:
        first = backend.sync(session, side="needs", ids=ids, texts=texts, vectors_for=vectors_for)
    assert (first.written, first.removed, first.index_created) == (30, 0, True)
    with unit_of_work(factory) as session:
        again = backend.sync(session, side="needs", ids=ids, texts=texts, vectors_for=vectors_for)
    assert (again.written, again.removed, again.index_created) == (0, 0, False)
    # One text changed, one row gone: one vector written, one removed.
    texts[4] = "changed"
    with unit_of_work(factory) as session:
        changed = backend.sync(session, side="needs", ids=ids[:-1], texts=texts[:-1], vectors_for=vectors_for)
    assert (changed.written, changed.removed) == (1, 1)
    assert asked[-1] == ids[4]
    # Another model of another dimension: every row rewritten, the index made for the new dimension.
    wider = PgVectorBackend(engine, model="wide", dimension=DIM * 2)
    with unit_of_work(factory) as session:
        switched = wider.sync(
            session, side="needs", ids=ids[:-1], texts=texts[:-1], vectors_for=lambda w: np.eye(DIM * 2)[: len(w)]
        )
    assert (switched.written, switched.index_created) == (29, True)
    with engine.connect() as connection:
        indexes = connection.execute(
            text("SELECT indexname FROM pg_indexes WHERE tablename = 'need_vectors' AND indexname LIKE '%hnsw%'")
        ).scalars()
        assert set(indexes) == {f"ix_need_vectors_hnsw_{DIM * 2}"}
        models = connection.execute(select(vector_table("needs").c.model).distinct()).scalars().all()
        assert models == ["wide"]


def test_search_uses_the_hnsw_index(engine: Engine) -> None:
    ids = _needs(engine, 20)
    backend = PgVectorBackend(engine, model="m", dimension=DIM)
    with unit_of_work(create_session_factory(engine)) as session:
        backend.sync(session, side="needs", ids=ids, texts=[str(i) for i in ids], vectors_for=lambda w: _unit(len(w)))
    store = backend.create("needs", dimension=DIM)
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        plan = (
            connection.execute(
                text(
                    f"EXPLAIN SELECT id FROM need_vectors WHERE {store._predicate}"
                    f" ORDER BY {store._indexed} <#> CAST(:q AS vector) LIMIT 5"
                ),
                {"q": "[" + ",".join(["0.25"] * DIM) + "]"},
            )
            .scalars()
            .all()
        )
    assert any(f"ix_need_vectors_hnsw_{DIM}" in line for line in plan), plan


def _vector_rows(engine: Engine, table: str) -> dict[int, tuple[str, str | None, int]]:
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT id, model, text_hash, vector_dims(embedding) FROM {table}")).all()
    return {ident: (model, digest, dims) for ident, model, digest, dims in rows}


def test_the_app_on_pgvector_writes_vectors_with_their_rows(settings: Settings, engine: Engine) -> None:
    on_pgvector = settings.model_copy(update={"vector_backend": "pgvector"})
    load_mini(on_pgvector)
    assert {model for model, _, _ in _vector_rows(engine, "need_vectors").values()} == {HASHING_MODEL}
    app = create_app(on_pgvector)
    with TestClient(app) as client:
        authorize(client)
        assert app.state.index_sync.outcome == "loaded"  # load_mini wrote them
        assert app.state.matcher.catalogue.backend.name == "pgvector"
        company = client.get("/api/v1/companies").json()["items"][0]
        body = {"company_id": company["id"], "title": "Sorting castings", "description": "Vision for castings."}
        need = client.post("/api/v1/needs", json=body).json()
        # Stored by the request's own transaction, keyed by the text it was computed from.
        model, digest, dims = _vector_rows(engine, "need_vectors")[need["id"]]
        assert (model, dims) == (HASHING_MODEL, 256) and digest is not None
        matches = client.post(f"/api/v1/needs/{need['id']}/matches", json={"k": 3})
        assert matches.status_code == 200 and matches.json()["items"]
        technology_id = matches.json()["items"][0]["technology_id"]
        leads = client.get(f"/api/v1/technologies/{technology_id}/leads")
        assert leads.status_code == 200 and need["id"] in {item["need_id"] for item in leads.json()["items"]}
        assert client.delete(f"/api/v1/needs/{need['id']}").status_code == 204
        assert need["id"] not in _vector_rows(engine, "need_vectors")
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.json()
    # The next start finds the tables current and encodes nothing.
    matcher, encoder = counting_matcher()
    again = started_app(on_pgvector, matcher)
    assert again.state.index_sync.outcome == "loaded" and encoder.texts_encoded == 0


def test_a_new_model_rewrites_the_tables_once(settings: Settings, engine: Engine) -> None:
    on_pgvector = settings.model_copy(update={"vector_backend": "pgvector", "demo_dir": settings.data_dir / "none"})
    load_mini(on_pgvector)
    mirror = CountingEncoder(MirrorEncoder())
    app = started_app(on_pgvector, Matcher(mirror))
    assert app.state.index_sync.outcome == "rebuilt"
    rows = _vector_rows(engine, "technology_vectors") | _vector_rows(engine, "need_vectors")
    assert {(model, dims) for model, _, dims in rows.values()} == {("mirror-96", 96)}
    again = CountingEncoder(MirrorEncoder())
    assert started_app(on_pgvector, Matcher(again)).state.index_sync.outcome == "loaded"
    assert again.texts_encoded == 0
