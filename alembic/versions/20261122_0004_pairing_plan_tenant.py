"""pairing plans belong to a tenant

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 02:02:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plans made before tenants existed were the default tenant's.
    with op.batch_alter_table("pairing_plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tenant", sa.String(length=64), server_default="default", nullable=False))
        batch_op.create_index(batch_op.f("ix_pairing_plans_tenant"), ["tenant"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pairing_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pairing_plans_tenant"))
        batch_op.drop_column("tenant")
