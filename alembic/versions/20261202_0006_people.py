"""people with roles, server-side web sessions and invitations; curators become people with the curator role

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The rule of app/models/people.py (ROLE_BINDING), copied: a revision imports nothing from app.
ROLE_BINDING = (
    "(role IN ('curator', 'facilitator') AND company_id IS NULL AND provider_id IS NULL)"
    " OR (role = 'sme' AND company_id IS NOT NULL AND provider_id IS NULL)"
    " OR (role = 'provider' AND provider_id IS NOT NULL AND company_id IS NULL)"
)
ROLE = sa.Enum("curator", "facilitator", "sme", "provider", name="role", native_enum=False, length=16)


def _restart_ids(table: str) -> None:
    # Rows copied with their ids leave PostgreSQL's sequence at 1; SQLite needs nothing.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        )


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("role", ROLE, nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(ROLE_BINDING, name=op.f("ck_people_role_binding")),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_people_company_id_companies"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_people_provider_id_providers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("email", name=op.f("uq_people_email")),
        sa.UniqueConstraint("username", name=op.f("uq_people_username")),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_people_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_people_tenant"), ["tenant"], unique=False)

    # Every curator account stays, with its id, password hash and state, as a person with the curator role.
    op.execute(
        "INSERT INTO people (id, tenant, role, username, password_hash, active, created_at, last_login_at) "
        "SELECT id, tenant, 'curator', username, password_hash, active, created_at, last_login_at FROM curators"
    )
    _restart_ids("people")
    with op.batch_alter_table("curators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_curators_tenant"))
    op.drop_table("curators")

    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_web_sessions_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_sessions_token_hash")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_web_sessions_person_id"), ["person_id"], unique=False)

    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("role", ROLE, nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(ROLE_BINDING, name=op.f("ck_invitations_role_binding")),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_invitations_company_id_companies"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_invitations_person_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_invitations_provider_id_providers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitations_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invitations_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invitations_tenant"), ["tenant"], unique=False)


def downgrade() -> None:
    # Curators go back to their table; facilitators, members, sessions and invitations are dropped.
    op.create_table(
        "curators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_curators")),
        sa.UniqueConstraint("username", name=op.f("uq_curators_username")),
    )
    with op.batch_alter_table("curators", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_curators_tenant"), ["tenant"], unique=False)
    op.execute(
        "INSERT INTO curators (id, tenant, username, password_hash, active, created_at, last_login_at) "
        "SELECT id, tenant, username, password_hash, active, created_at, last_login_at FROM people "
        "WHERE role = 'curator'"
    )
    _restart_ids("curators")

    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitations_tenant"))
        batch_op.drop_index(batch_op.f("ix_invitations_provider_id"))
        batch_op.drop_index(batch_op.f("ix_invitations_company_id"))
    op.drop_table("invitations")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_person_id"))
        batch_op.drop_index(batch_op.f("ix_web_sessions_expires_at"))
    op.drop_table("web_sessions")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_tenant"))
        batch_op.drop_index(batch_op.f("ix_people_provider_id"))
        batch_op.drop_index(batch_op.f("ix_people_company_id"))
    op.drop_table("people")
