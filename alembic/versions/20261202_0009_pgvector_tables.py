"""pgvector: the extension and the vector tables, on PostgreSQL only

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 12:00:00
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The statements are written out here, not imported from app/, so this revision stays what it was.
TABLES = {"technology_vectors": "technologies", "need_vectors": "needs"}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return  # SQLite: the FAISS backend only
    available = bind.execute(sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")).scalar()
    if not available:
        # A server without pgvector still migrates (the FAISS backend needs none of this); the pgvector
        # backend refuses to start there and names `techmatch db vector-tables` for later.
        logging.getLogger("alembic.runtime.migration").warning(
            "0008: the PostgreSQL server has no pgvector extension; the vector tables are not created"
        )
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    for table, rows in TABLES.items():
        # `embedding vector` without a dimension: the HNSW index is an expression index per model
        # dimension (app/indexing/pgvector.py), so a model of another size needs no migration.
        op.execute(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            f" id BIGINT NOT NULL, model VARCHAR(300) NOT NULL, text_hash VARCHAR(64), embedding vector NOT NULL,"
            f" CONSTRAINT pk_{table} PRIMARY KEY (id),"
            f" CONSTRAINT fk_{table}_id_{rows} FOREIGN KEY (id) REFERENCES {rows} (id) ON DELETE CASCADE)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table}")
    # The extension stays: other schemas of the server may use it.
