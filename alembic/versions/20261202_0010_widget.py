"""the widget: publishable keys bound to origins, and who sent each need through it

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUS = sa.Enum("pending", "reviewed", name="submissionstatus", native_enum=False, length=16)


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("origins", sa.JSON(), nullable=True))
    op.create_table(
        "widget_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("key_prefix", sa.String(length=32), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=False),
        sa.Column("contact_email", sa.String(length=320), nullable=False),
        sa.Column("origin", sa.String(length=300), nullable=True),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["need_id"], ["needs.id"], name=op.f("fk_widget_submissions_need_id_needs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_widget_submissions")),
        sa.UniqueConstraint("need_id", name=op.f("uq_widget_submissions_need_id")),
    )
    op.create_index(op.f("ix_widget_submissions_tenant"), "widget_submissions", ["tenant"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_widget_submissions_tenant"), table_name="widget_submissions")
    op.drop_table("widget_submissions")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("origins")
