"""ranking models record the tenant whose key learned them

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Null: learned by `techmatch learn`, or through the API before this revision (then nobody is shown who).
    with op.batch_alter_table("ranking_models", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trained_by_tenant", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ranking_models", schema=None) as batch_op:
        batch_op.drop_column("trained_by_tenant")
