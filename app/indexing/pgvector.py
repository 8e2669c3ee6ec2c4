"""pgvector: the engine's vector index kept in PostgreSQL, beside the rows and written in their transactions.

Each side has a table (`technology_vectors`, `need_vectors`, migration 0008): the row's id (a foreign key
that cascades, so a vector never outlives its row), the model, the hash of the embedded text (the key
of the embedding cache) and the vector. Catalogue writes put the vector there in the writer's own
transaction (`write`); start-up and rebuilds bring the tables in line with the rows by text hash
(`sync`), taking vectors from the embedding cache; searches run an HNSW index in the database. Nothing
is held in the serving process but the records and BM25, so N processes share one index.

HNSW parameters (pgvector's names): m=16 and ef_construction=64, pgvector's defaults; ef_search=100,
raised to k for a deeper search. Measured side by side with FAISS in `scripts/bench.py backends`.
The index is a partial expression index on `embedding::vector(D)` over the rows of the model's dimension
D, made by the first process that needs it (the column itself holds any dimension, so a model of another
size needs no migration); one of another dimension is dropped once no row has that dimension.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Column,
    Engine,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    delete,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from matching.errors import IndexMismatchError
from matching.retrieval.texts import text_hash
from matching.retrieval.vector_store import IndexMeta, VectorStore

logger = logging.getLogger(__name__)

KIND = "pgvector-hnsw-ip"
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64
HNSW_EF_SEARCH = 100
# side -> (vector table, the table of its rows)
TABLES = {"technologies": ("technology_vectors", "technologies"), "needs": ("need_vectors", "needs")}
VECTOR_TABLES = frozenset(table for table, _ in TABLES.values())
# Rows written per statement when a sync writes many.
WRITE_CHUNK = 1000
# One sync at a time per database: two processes starting together would both make the HNSW index.
_SYNC_LOCK = 0x7465636876656374  # "techvect"

metadata = MetaData()


def _table(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("id", BigInteger, primary_key=True),
        Column("model", String(300), nullable=False),
        # Null where the writer did not know the text (`PgVectorIndex.upsert`): the next sync rewrites it.
        Column("text_hash", String(64)),
        Column("embedding", Vector(), nullable=False),
    )


_TABLES: dict[str, Table] = {}


def vector_table(side: str) -> Table:
    name = TABLES[side][0]
    if name not in _TABLES:
        _TABLES[name] = _table(name)
    return _TABLES[name]


def _literal(vector: np.ndarray) -> str:
    """pgvector's text form; %.9g round-trips a float32 exactly."""
    return "[" + ",".join(f"{value:.9g}" for value in np.asarray(vector, dtype=np.float32).tolist()) + "]"


def _parse(value: object) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value.astype(np.float32, copy=False)
    if isinstance(value, str):
        return np.array(value.strip("[]").split(","), dtype=np.float32)
    return np.asarray(value, dtype=np.float32)


def create_vector_tables(connection: Connection) -> None:
    """The extension and both tables, as migration 0008 makes them (`techmatch db vector-tables`: for a
    server that got pgvector after it was migrated)."""
    if connection.dialect.name != "postgresql":
        raise ValueError("vector tables need a PostgreSQL database")
    connection.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
    for table, rows in TABLES.values():
        connection.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {table} ("
                f" id BIGINT NOT NULL, model VARCHAR(300) NOT NULL, text_hash VARCHAR(64), embedding vector NOT NULL,"
                f" CONSTRAINT pk_{table} PRIMARY KEY (id),"
                f" CONSTRAINT fk_{table}_id_{rows} FOREIGN KEY (id) REFERENCES {rows} (id) ON DELETE CASCADE)"
            )
        )


def vector_extension_available(connection: Connection) -> bool:
    if connection.dialect.name != "postgresql":
        return False
    found = connection.execute(text("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")).scalar()
    return bool(found)


def vector_tables_exist(connection: Connection) -> bool:
    found = connection.execute(
        text("SELECT count(*) FROM pg_class WHERE relname = ANY(:names) AND relkind = 'r'"),
        {"names": sorted(VECTOR_TABLES)},
    ).scalar()
    return found == len(VECTOR_TABLES)


def hnsw_index_name(table: str, *, dimension: int) -> str:
    return f"ix_{table}_hnsw_{int(dimension)}"


def hnsw_index_sql(table: str, *, dimension: int) -> str:
    """The HNSW index a sync makes for a model's dimension (the benchmark builds the same one)."""
    return (
        f'CREATE INDEX "{hnsw_index_name(table, dimension=dimension)}" ON {table} USING hnsw '
        f"((embedding::vector({int(dimension)})) vector_ip_ops) "
        f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION}) "
        f"WHERE vector_dims(embedding) = {int(dimension)}"
    )


class EngineRef:
    """The engine a backend's stores share, swapped for an unpooled one when the backend closes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def close(self) -> None:
        # The app disposes of its pool at shutdown; a store still asked afterwards (a test reading counts)
        # opens and closes a connection per call instead of leaving pooled ones to the garbage collector.
        self.engine = create_engine(self.engine.url, poolclass=NullPool)


class PgVectorIndex:
    """One side's vectors in PostgreSQL: the engine's `VectorStore` over a table and its HNSW index.

    Each call runs on a pooled connection of its own; `upsert` and `remove` commit their own transaction
    (catalogue writes have put the same vectors there already, in theirs, so theirs is then a no-op).
    """

    def __init__(self, engine: Engine | EngineRef, *, side: str, model: str, dimension: int) -> None:
        self._engine = engine if isinstance(engine, EngineRef) else EngineRef(engine)
        self.side = side
        self.model = model
        self.dimension = dimension
        self.table = vector_table(side)
        self._rows_table = TABLES[side][1]
        # The expression and predicate the HNSW index is built on: a search must use them as written.
        self._indexed = f"(embedding::vector({int(dimension)}))"
        self._predicate = f"vector_dims(embedding) = {int(dimension)}"

    @property
    def kind(self) -> str:
        return KIND

    @property
    def engine(self) -> Engine:
        return self._engine.engine

    def __len__(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(text("count(*)")).select_from(self.table)).scalar() or 0)

    def ids(self) -> np.ndarray:
        with self.engine.connect() as connection:
            found = connection.execute(select(self.table.c.id)).scalars().all()
        return np.asarray(found, dtype=np.int64)

    def upsert(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        ids_arr = np.asarray(ids, dtype=np.int64)
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape != (len(ids_arr), self.dimension):
            raise ValueError(f"expected {len(ids_arr)} vectors of dimension {self.dimension}, got {vectors.shape}")
        if len(np.unique(ids_arr)) != len(ids_arr):
            raise ValueError("duplicate ids in one upsert")
        if not len(ids_arr):
            return
        with self.engine.begin() as connection:
            _write(connection, self.side, model=self.model, ids=ids_arr, vectors=vectors, hashes=None)

    def remove(self, ids: Iterable[int]) -> int:
        wanted = [int(i) for i in ids]
        if not wanted:
            return 0
        with self.engine.begin() as connection:
            result = connection.execute(delete(self.table).where(self.table.c.id.in_(wanted)))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.atleast_2d(np.asarray(query, dtype=np.float32))
        scores = np.full((len(queries), max(k, 0)), -np.inf, dtype=np.float32)
        found = np.full((len(queries), max(k, 0)), -1, dtype=np.int64)
        if k <= 0:
            return scores, found
        statement = text(
            f"SELECT id, {self._indexed} <#> CAST(:query AS vector) AS distance FROM {self.table.name}"
            f" WHERE {self._predicate} ORDER BY {self._indexed} <#> CAST(:query AS vector) LIMIT :k"
        )
        with self.engine.begin() as connection:
            # An HNSW scan returns at most ef_search rows.
            connection.execute(
                text("SELECT set_config('hnsw.ef_search', :ef, true)"), {"ef": str(max(HNSW_EF_SEARCH, k))}
            )
            for row, vector in enumerate(queries):
                hits = connection.execute(statement, {"query": _literal(vector), "k": k}).all()
                for column, (ident, distance) in enumerate(hits):
                    found[row, column] = ident
                    scores[row, column] = -distance  # <#> is the negative inner product
        width = max((int((row >= 0).sum()) for row in found), default=0)
        return scores[:, :width], found[:, :width]

    def vectors(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        wanted = [int(i) for i in ids]
        if not wanted:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(self.table.c.id, self.table.c.embedding).where(self.table.c.id.in_(set(wanted)))
            ).all()
        stored = {int(ident): _parse(vector) for ident, vector in rows}
        missing = [i for i in wanted if i not in stored]
        if missing:
            raise IndexMismatchError(f"id {missing[0]} is not in the {self.side} vector table")
        return np.stack([stored[i] for i in wanted]).astype(np.float32)

    def scores(self, query: np.ndarray, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Inner products computed in the database: no vector leaves it."""
        wanted = [int(i) for i in ids]
        if not wanted:
            return np.zeros(0, dtype=np.float32)
        statement = text(
            f"SELECT id, embedding <#> CAST(:query AS vector) FROM {self.table.name} WHERE id = ANY(:ids)"
        ).bindparams(bindparam("ids", type_=_BIGINT_ARRAY))
        with self.engine.connect() as connection:
            rows = connection.execute(statement, {"query": _literal(query), "ids": sorted(set(wanted))}).all()
        stored = {int(ident): -float(distance) for ident, distance in rows}
        missing = [i for i in wanted if i not in stored]
        if missing:
            raise IndexMismatchError(f"id {missing[0]} is not in the {self.side} vector table")
        return np.array([stored[i] for i in wanted], dtype=np.float32)


_BIGINT_ARRAY = ARRAY(BigInteger)


def _write(
    connection: Connection | Session,
    side: str,
    *,
    model: str,
    ids: Sequence[int] | np.ndarray,
    vectors: np.ndarray,
    hashes: Sequence[str] | None,
) -> None:
    """Insert or replace vectors by id. With `hashes`, a row that holds the same model and text is left
    alone; without them, one that holds the same model and vector (the writer's transaction wrote it)."""
    table = vector_table(side)
    rows_table = TABLES[side][1]
    for start in range(0, len(ids), WRITE_CHUNK):
        chunk = [
            {
                "id": int(ids[row]),
                "model": model,
                "text_hash": None if hashes is None else hashes[row],
                "embedding": vectors[row],
            }
            for row in range(start, min(start + WRITE_CHUNK, len(ids)))
        ]
        statement = insert(table)
        excluded = statement.excluded
        if hashes is None:
            unchanged = (table.c.model == excluded.model) & (table.c.embedding == excluded.embedding)
        else:
            unchanged = (table.c.model == excluded.model) & (table.c.text_hash == excluded.text_hash)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.id],
            set_={"model": excluded.model, "text_hash": excluded.text_hash, "embedding": excluded.embedding},
            where=~unchanged,
        )
        if hashes is None:
            # After the commit of a write whose row another transaction deleted since: nothing to index.
            ids_of_chunk = [entry["id"] for entry in chunk]
            present = set(
                connection.execute(
                    text(f"SELECT id FROM {rows_table} WHERE id = ANY(:ids)").bindparams(
                        bindparam("ids", type_=_BIGINT_ARRAY)
                    ),
                    {"ids": ids_of_chunk},
                ).scalars()
            )
            chunk = [entry for entry in chunk if entry["id"] in present]
        if chunk:
            connection.execute(statement, chunk)


@dataclass(frozen=True, slots=True)
class VectorSync:
    """What a sync changed in the vector tables."""

    written: int
    removed: int
    index_created: bool

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


VectorsFor = Callable[[Sequence[int]], np.ndarray]


class PgVectorBackend:
    """The engine's `VectorBackend` over the vector tables: stores per side, nothing saved to files."""

    name = "pgvector"
    in_process = False

    def __init__(self, engine: Engine, *, model: str, dimension: int) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("the pgvector backend needs a PostgreSQL database")
        self._engine = EngineRef(engine)
        self.model = model
        self.dimension = dimension

    def create(self, side: str, *, dimension: int) -> PgVectorIndex:
        return PgVectorIndex(self._engine, side=side, model=self.model, dimension=dimension)

    def close(self) -> None:
        """The app's engine is being disposed of: stores asked after this use one connection per call."""
        self._engine.close()

    def save(self, store: VectorStore, directory: Path, *, side: str, meta: IndexMeta) -> None:
        """Nothing to save: every write went to the database in its own transaction."""

    def load(
        self,
        directory: Path,
        *,
        side: str,
        expected: IndexMeta,
        ids: Collection[int],
        changed: Collection[int] = frozenset(),
    ) -> PgVectorIndex:
        # `sync` has brought the table in line with the rows in the same start-up; the writers keep the
        # table current, changed ids included, so there is nothing to drop.
        return self.create(side, dimension=expected.dimension)

    def check(self, connection: Connection) -> None:
        """Refuse to start on a database without the vector tables, naming what to do."""
        if not vector_tables_exist(connection):
            raise IndexMismatchError(
                "the pgvector backend needs the vector tables, which `techmatch db upgrade` makes where the "
                "PostgreSQL server has the pgvector extension (scripts/system-deps.sh builds it); this database "
                "has none: install the extension, then run `techmatch db vector-tables`"
            )

    def write(
        self, session: Session, side: str, *, ids: Sequence[int], vectors: np.ndarray, texts: Sequence[str]
    ) -> None:
        """The catalogue write path: vectors stored in the writer's transaction, beside their rows."""
        if len(ids):
            session.flush()  # the rows first: the vectors' foreign keys point at them
            _write(session, side, model=self.model, ids=ids, vectors=vectors, hashes=[text_hash(t) for t in texts])

    def sync(
        self,
        session: Session,
        *,
        side: str,
        ids: Sequence[int],
        texts: Sequence[str],
        vectors_for: VectorsFor,
    ) -> VectorSync:
        """Make `side`'s table hold exactly these rows' vectors for this model, in the caller's transaction.

        Rows whose model or text hash differ, or that are missing, get their vectors from `vectors_for`
        (the embedding cache: ids -> vectors); rows of ids no longer present are deleted. The HNSW
        index for the model's dimension is made after the writes when missing (faster than inserting
        into it one by one), and one of another dimension dropped before them.
        """
        self.check(session.connection())
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SYNC_LOCK})
        table = vector_table(side)
        wanted = {int(i): text_hash(t) for i, t in zip(ids, texts, strict=True)}
        stored = {
            int(ident): (model, digest)
            for ident, model, digest in session.execute(select(table.c.id, table.c.model, table.c.text_hash))
        }
        stale = [i for i, digest in wanted.items() if stored.get(i) != (self.model, digest)]
        extra = sorted(stored.keys() - wanted.keys())
        index_name = hnsw_index_name(table.name, dimension=self.dimension)
        existing = set(
            session.execute(
                text("SELECT indexname FROM pg_indexes WHERE tablename = :table AND indexname LIKE :pattern"),
                {"table": table.name, "pattern": f"ix_{table.name}_hnsw_%"},
            ).scalars()
        )
        if extra:
            for start in range(0, len(extra), WRITE_CHUNK):
                session.execute(delete(table).where(table.c.id.in_(extra[start : start + WRITE_CHUNK])))
        for start in range(0, len(stale), WRITE_CHUNK * 10):
            part = stale[start : start + WRITE_CHUNK * 10]
            vectors = vectors_for(part)
            _write(session, side, model=self.model, ids=part, vectors=vectors, hashes=[wanted[i] for i in part])
        created = index_name not in existing
        if created:
            # Partial, on the rows of this dimension: the cast is never tried on another model's vectors
            # (nor on the old versions of rows this transaction rewrote, which an index build still reads).
            session.execute(text(hnsw_index_sql(table.name, dimension=self.dimension)))
        if stale and len(stale) == len(wanted):
            # Every row now has this model's dimension: an index of another dimension indexes nothing.
            for other in sorted(existing - {index_name}):
                logger.info("dropping %s: the model's vectors have %d dimensions", other, self.dimension)
                session.execute(text(f'DROP INDEX "{other}"'))
        return VectorSync(written=len(stale), removed=len(extra), index_created=created)


def write_in_transaction(
    session: Session, backend: object, side: str, *, ids: Sequence[int], vectors: np.ndarray, texts: Sequence[str]
) -> None:
    """Store a catalogue write's vectors in its own transaction when the backend is pgvector (else nothing:
    the FAISS index follows after the commit)."""
    if isinstance(backend, PgVectorBackend):
        backend.write(session, side, ids=ids, vectors=vectors, texts=texts)
