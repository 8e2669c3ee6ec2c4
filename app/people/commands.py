"""`techmatch people` (every role) and `techmatch curators` (the curator accounts, as before): accounts for
the web pages; passwords are stored as argon2id hashes."""

from __future__ import annotations

import json
import sys
from typing import Annotated, TypedDict

import typer


class _PersonRow(TypedDict):
    username: str
    role: str
    tenant: str
    email: str | None
    company_id: int | None
    provider_id: int | None
    active: bool
    created_at: str
    last_login_at: str | None


class _CuratorRow(TypedDict):
    username: str
    tenant: str
    active: bool
    created_at: str
    last_login_at: str | None


ROLES = "curator, facilitator, sme (needs --company) or provider (needs --provider)"

people_cli = typer.Typer(
    help="People who sign in to the web pages: curators, facilitators, SME members and provider members.",
    no_args_is_help=True,
)
curators_cli = typer.Typer(
    help="Curator accounts (cluster staff) for the review pages at /review; passwords are stored as argon2 hashes.",
    no_args_is_help=True,
)

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="read the password from the first line of stdin, not a prompt")
]


def _password(password_stdin: bool) -> str:
    if password_stdin:
        # The first line only, without its line ending, so `echo pw | ...` and a file both work.
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


# techmatch people


@people_cli.command("create")
def create_person(
    username: Annotated[str, typer.Argument(help="the sign-in name")],
    role: Annotated[str, typer.Option(help=ROLES)],
    tenant: Annotated[str, typer.Option(help="the tenant (cluster) the person belongs to")] = "default",
    company: Annotated[str | None, typer.Option(help="an SME member's company: id or ref, of the tenant")] = None,
    provider: Annotated[str | None, typer.Option(help="a provider member's provider: id or ref, of the tenant")] = None,
    email: Annotated[str | None, typer.Option(help="an e-mail address; one may sign in with it too")] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Create a person with a role; the password is asked for twice (or read from stdin)."""
    from app.core.cli import database_session, fail
    from app.core.errors import AppError
    from app.people import service as people

    password = _password(password_stdin)
    try:
        with database_session() as session:
            person = people.create_person(
                session,
                username=username,
                password=password,
                role=people.parse_role(role),
                tenant=tenant,
                company_id=people.resolve_company(session, tenant=tenant, value=company),
                provider_id=people.resolve_provider(session, tenant=tenant, value=provider),
                email=email,
            )
            message = f"created {person.role.value} {person.username} for tenant {person.tenant}"
    except AppError as exc:
        fail(exc.detail)
    typer.echo(message)


@people_cli.command("list")
def list_people(
    tenant: Annotated[str | None, typer.Option(help="only this tenant's people")] = None,
    role: Annotated[str | None, typer.Option(help="only this role")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on the last line")] = False,
) -> None:
    """Every person with role, tenant, company or provider, state and last sign-in."""
    from rich.console import Console
    from rich.table import Table

    from app.core.cli import database_session, fail
    from app.core.errors import AppError
    from app.people import service as people

    try:
        with database_session() as session:
            chosen = people.parse_role(role) if role else None
            rows: list[_PersonRow] = [
                {
                    "username": p.username,
                    "role": p.role.value,
                    "tenant": p.tenant,
                    "email": p.email,
                    "company_id": p.company_id,
                    "provider_id": p.provider_id,
                    "active": p.active,
                    "created_at": p.created_at.isoformat(timespec="seconds"),
                    "last_login_at": p.last_login_at.isoformat(timespec="seconds") if p.last_login_at else None,
                }
                for p in people.list_people(session, tenant=tenant, role=chosen)
            ]
    except AppError as exc:
        fail(exc.detail)
    if as_json:
        typer.echo(json.dumps({"people": rows}))
        return
    table = Table("username", "role", "tenant", "for", "state", "last sign-in")
    for row in rows:
        bound = f"company {row['company_id']}" if row["company_id"] else ""
        bound = bound or (f"provider {row['provider_id']}" if row["provider_id"] else "")
        table.add_row(
            row["username"],
            row["role"],
            row["tenant"],
            bound,
            "active" if row["active"] else "disabled",
            row["last_login_at"] or "never",
        )
    Console(soft_wrap=False).print(table)


def _set_active(username: str, *, active: bool, curators_only: bool) -> None:
    from app.core.cli import database_session, fail
    from app.core.errors import AppError
    from app.models import Role
    from app.people import service as people

    try:
        with database_session() as session:
            person = people.set_active(
                session, username=username, active=active, role=Role.curator if curators_only else None
            )
            kind = person.role.value
    except AppError as exc:
        fail(exc.detail)
    typer.echo(f"{'enabled' if active else 'disabled'} {kind} {username}")


def _set_password(username: str, *, password_stdin: bool, curators_only: bool) -> None:
    from app.core.cli import database_session, fail
    from app.core.errors import AppError
    from app.models import Role
    from app.people import service as people

    new = _password(password_stdin)
    try:
        with database_session() as session:
            people.set_password(session, username=username, password=new, role=Role.curator if curators_only else None)
    except AppError as exc:
        fail(exc.detail)
    typer.echo(f"password of {username} changed; their sessions are signed out")


@people_cli.command("disable")
def disable_person(username: Annotated[str, typer.Argument()]) -> None:
    """Disable an account: its sessions end at once; what it did stays."""
    _set_active(username, active=False, curators_only=False)


@people_cli.command("enable")
def enable_person(username: Annotated[str, typer.Argument()]) -> None:
    """Enable a disabled account again."""
    _set_active(username, active=True, curators_only=False)


@people_cli.command("password")
def person_password(username: Annotated[str, typer.Argument()], password_stdin: PasswordStdin = False) -> None:
    """Set a new password; every session of the account ends."""
    _set_password(username, password_stdin=password_stdin, curators_only=False)


@people_cli.command("invite")
def invite(
    role: Annotated[str, typer.Option(help=ROLES)],
    tenant: Annotated[str, typer.Option(help="the tenant the person will belong to")] = "default",
    company: Annotated[str | None, typer.Option(help="an SME member's company: id or ref, of the tenant")] = None,
    provider: Annotated[str | None, typer.Option(help="a provider member's provider: id or ref, of the tenant")] = None,
    email: Annotated[str | None, typer.Option(help="e-mail the link here (when TECHMATCH_SMTP_HOST is set)")] = None,
    base_url: Annotated[
        str | None, typer.Option(help="the site's address for the link (default: TECHMATCH_PUBLIC_URL, else local)")
    ] = None,
) -> None:
    """Create a single-use, expiring invitation link; prints it alone on its last line."""
    from app.core.cli import database_session, fail, load_settings
    from app.core.errors import AppError
    from app.people import mail
    from app.people import service as people

    settings = load_settings()
    base = base_url or settings.public_url or "http://127.0.0.1:8000"
    try:
        with database_session() as session:
            created = people.invite(
                session,
                tenant=tenant,
                role=people.parse_role(role),
                invited_by="cli",
                days=settings.invitation_days,
                company_id=people.resolve_company(session, tenant=tenant, value=company),
                provider_id=people.resolve_provider(session, tenant=tenant, value=provider),
                email=email,
            )
            link = created.link(base)
            expires = created.invitation.expires_at.isoformat(timespec="minutes")
        # After the commit, so a link that is e-mailed works.
        if created.invitation.email and mail.mail_configured(settings):
            with database_session() as session:
                people.mail_invitation(settings=settings, session=session, created=created, link=link, inviter="cli")
            typer.echo(f"e-mailed to {created.invitation.email}", err=True)
    except AppError as exc:
        fail(exc.detail)
    typer.echo(f"invitation for a {created.invitation.role.value} of tenant {tenant}, valid until {expires}:", err=True)
    typer.echo(link)


# techmatch curators: the curator accounts, as they were before people had roles.


@curators_cli.command("create")
def create(
    username: Annotated[str, typer.Argument(help="the sign-in name")],
    tenant: Annotated[str, typer.Option(help="the tenant (cluster) whose matches the curator reviews")] = "default",
    password_stdin: PasswordStdin = False,
) -> None:
    """Create a curator account; the password is asked for twice (or read from stdin)."""
    from app.core.cli import database_session, fail
    from app.core.errors import AppError
    from app.people import service as people

    password = _password(password_stdin)
    try:
        with database_session() as session:
            curator = people.create_curator(session, username=username, password=password, tenant=tenant)
            message = f"created curator {curator.username} for tenant {curator.tenant}"
    except AppError as exc:
        fail(exc.detail)
    typer.echo(message)


@curators_cli.command("password")
def password(username: Annotated[str, typer.Argument()], password_stdin: PasswordStdin = False) -> None:
    """Set a new password for a curator; its sessions end."""
    _set_password(username, password_stdin=password_stdin, curators_only=True)


@curators_cli.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json", help="one JSON object on the last line")] = False) -> None:
    """Every curator with tenant, state and last sign-in."""
    from rich.console import Console
    from rich.table import Table

    from app.core.cli import database_session
    from app.people import service as people

    with database_session() as session:
        rows: list[_CuratorRow] = [
            {
                "username": c.username,
                "tenant": c.tenant,
                "active": c.active,
                "created_at": c.created_at.isoformat(timespec="seconds"),
                "last_login_at": c.last_login_at.isoformat(timespec="seconds") if c.last_login_at else None,
            }
            for c in people.list_curators(session)
        ]
    if as_json:
        typer.echo(json.dumps({"curators": rows}))
        return
    table = Table("username", "tenant", "state", "created", "last sign-in")
    for row in rows:
        table.add_row(
            row["username"],
            row["tenant"],
            "active" if row["active"] else "disabled",
            row["created_at"],
            row["last_login_at"] or "never",
        )
    Console(soft_wrap=False).print(table)


@curators_cli.command("disable")
def disable(username: Annotated[str, typer.Argument()]) -> None:
    """Disable an account: its sessions end at once; its decisions stay."""
    _set_active(username, active=False, curators_only=True)


@curators_cli.command("enable")
def enable(username: Annotated[str, typer.Argument()]) -> None:
    """Enable a disabled account again."""
    _set_active(username, active=True, curators_only=True)
