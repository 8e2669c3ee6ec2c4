"""`techmatch curators`: create, list, disable and enable curator accounts for the review pages."""

from __future__ import annotations

import json
import sys
from typing import Annotated, TypedDict

import typer


class _CuratorRow(TypedDict):
    username: str
    tenant: str
    active: bool
    created_at: str
    last_login_at: str | None


curators_cli = typer.Typer(
    help="Curator accounts (cluster staff) for the review pages at /review; passwords are stored as argon2 hashes.",
    no_args_is_help=True,
)


def _password(password_stdin: bool) -> str:
    if password_stdin:
        # The first line only, without its line ending, so `echo pw | ...` and a file both work.
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@curators_cli.command("create")
def create(
    username: Annotated[str, typer.Argument(help="the sign-in name")],
    tenant: Annotated[str, typer.Option(help="the tenant (cluster) whose matches the curator reviews")] = "default",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from the first line of stdin, not a prompt")
    ] = False,
) -> None:
    """Create a curator account; the password is asked for twice (or read from stdin)."""
    from app.core.cli import database_session, fail
    from app.core.errors import AppError
    from app.people import service as curators

    password = _password(password_stdin)
    try:
        with database_session() as session:
            curator = curators.create_curator(session, username=username, password=password, tenant=tenant)
            message = f"created curator {curator.username} for tenant {curator.tenant}"
    except AppError as exc:
        fail(exc.detail)
    typer.echo(message)


@curators_cli.command("password")
def password(
    username: Annotated[str, typer.Argument()],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the new password from stdin")] = False,
) -> None:
    """Set a new password for a curator."""
    from app.core.cli import database_session, fail
    from app.core.errors import AppError
    from app.people import service as curators

    new = _password(password_stdin)
    try:
        with database_session() as session:
            curators.set_password(session, username=username, password=new)
    except AppError as exc:
        fail(exc.detail)
    typer.echo(f"password of {username} changed")


@curators_cli.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json", help="one JSON object on the last line")] = False) -> None:
    """Every curator with tenant, state and last sign-in."""
    from rich.console import Console
    from rich.table import Table

    from app.core.cli import database_session
    from app.people import service as curators

    with database_session() as session:
        rows: list[_CuratorRow] = [
            {
                "username": c.username,
                "tenant": c.tenant,
                "active": c.active,
                "created_at": c.created_at.isoformat(timespec="seconds"),
                "last_login_at": c.last_login_at.isoformat(timespec="seconds") if c.last_login_at else None,
            }
            for c in curators.list_curators(session)
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


def _set_active(username: str, *, active: bool) -> None:
    from app.core.cli import database_session, fail
    from app.core.errors import AppError
    from app.people import service as curators

    try:
        with database_session() as session:
            curators.set_active(session, username=username, active=active)
    except AppError as exc:
        fail(exc.detail)
    typer.echo(f"{'enabled' if active else 'disabled'} curator {username}")


@curators_cli.command("disable")
def disable(username: Annotated[str, typer.Argument()]) -> None:
    """Disable an account: its sessions stop working at their next request; its decisions stay."""
    _set_active(username, active=False)


@curators_cli.command("enable")
def enable(username: Annotated[str, typer.Argument()]) -> None:
    """Enable a disabled account again."""
    _set_active(username, active=True)
