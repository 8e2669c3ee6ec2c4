"""People who sign in to the web pages, their sessions and the invitations that bring them in."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import DEFAULT_TENANT, Base, utcnow


class Role(enum.StrEnum):
    curator = "curator"
    facilitator = "facilitator"
    sme = "sme"
    provider = "provider"


# Cluster staff: they see every company and provider of their tenant and invite the others.
STAFF_ROLES = frozenset({Role.curator, Role.facilitator})

# An SME member belongs to exactly one company, a provider member to exactly one provider, staff to
# neither. The same rule holds for an invitation, which becomes such a person. It also names every
# role, so an unknown one is refused by the database too.
ROLE_BINDING = (
    "(role IN ('curator', 'facilitator') AND company_id IS NULL AND provider_id IS NULL)"
    " OR (role = 'sme' AND company_id IS NOT NULL AND provider_id IS NULL)"
    " OR (role = 'provider' AND provider_id IS NOT NULL AND company_id IS NULL)"
)


def _role_column() -> Mapped[Role]:
    # A VARCHAR, not a native enum: a new role later needs no type change (the CHECK lists them).
    return mapped_column(Enum(Role, native_enum=False, length=16, validate_strings=True))


class Person(Base):
    """An account for the web pages; never deleted by the app (disabled instead), except with its company or
    provider. Staff (curators, facilitators) are created from the CLI or invited; members are invited."""

    __tablename__ = "people"
    __table_args__ = (CheckConstraint(ROLE_BINDING, name="role_binding"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True, default=DEFAULT_TENANT)
    role: Mapped[Role] = _role_column()
    username: Mapped[str] = mapped_column(String(100), unique=True)
    # Lower-cased; one may sign in with it instead of the username.
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    # The member's company or provider goes, and with it the account (erasure of a company included).
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # The pages' language ("en" or "da"); None: the browser's Accept-Language decides.
    language: Mapped[str | None] = mapped_column(String(8))

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


class WebSession(Base):
    """A signed-in browser. The cookie carries a random token; only its SHA-256 is stored. Signing out,
    a password change and disabling the person delete rows here, so a copied cookie stops working."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Invitation(Base):
    """A single-use, expiring link that lets someone choose a username and password for a role.

    Only the SHA-256 of the link's token is stored; the link itself is shown once (and e-mailed)."""

    __tablename__ = "invitations"
    __table_args__ = (CheckConstraint(ROLE_BINDING, name="role_binding"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True, default=DEFAULT_TENANT)
    role: Mapped[Role] = _role_column()
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"), index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The staff member's username, or "cli".
    invited_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
