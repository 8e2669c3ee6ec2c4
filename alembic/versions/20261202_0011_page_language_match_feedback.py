"""people choose their pages' language; SMEs and providers answer released matches

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Null: the browser's Accept-Language decides, as for every person before this revision.
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))

    op.create_table(
        "match_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("technology_id", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=20), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_feedback")),
    )
    with op.batch_alter_table("match_feedback", schema=None) as batch_op:
        for column in ("at", "match_id", "need_id", "technology_id", "tenant"):
            batch_op.create_index(batch_op.f(f"ix_match_feedback_{column}"), [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("match_feedback", schema=None) as batch_op:
        for column in ("at", "match_id", "need_id", "technology_id", "tenant"):
            batch_op.drop_index(batch_op.f(f"ix_match_feedback_{column}"))
    op.drop_table("match_feedback")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("language")
