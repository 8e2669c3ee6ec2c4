"""a demonstration day's date and slot length on its plan

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pairing_plans") as batch:
        batch.add_column(sa.Column("event_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("slot_minutes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pairing_plans") as batch:
        batch.drop_column("slot_minutes")
        batch.drop_column("event_date")
