"""`techmatch keys`: create, list and revoke API keys (an administrator's commands)."""

from __future__ import annotations

import json
from typing import Annotated, TypedDict

import typer

from app.keys.scopes import SCOPES


class _KeyRow(TypedDict):
    prefix: str
    tenant: str
    name: str | None
    scopes: list[str]
    origins: list[str] | None
    rate_limit: str | None
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


keys_cli = typer.Typer(
    help="API keys for cluster websites: each has a tenant and scopes; only a hash is stored.",
    no_args_is_help=True,
)


@keys_cli.command("create")
def create(
    tenant: Annotated[str, typer.Option(help="the tenant (cluster) whose data the key sees, e.g. 'default'")],
    scopes: Annotated[str, typer.Option(help=f"comma-separated, from: {', '.join(SCOPES)}")] = "",
    name: Annotated[str, typer.Option(help="who the key is for, shown by `keys list`")] = "",
    rate_limit: Annotated[
        str | None,
        typer.Option(
            help="this key's limit, e.g. '600/minute'; default: the rate_limit setting "
            "(for a publishable key: its submissions, default the widget_rate_limit setting)"
        ),
    ] = None,
    publishable: Annotated[
        bool,
        typer.Option(help="a key for the widget on a cluster's website: it can only submit needs; needs --origin"),
    ] = False,
    origin: Annotated[
        list[str] | None,
        typer.Option(help="a website origin whose pages may embed the widget, e.g. https://cluster.example (repeat)"),
    ] = None,
    site: Annotated[
        str, typer.Option(help="techmatch's public address, for the printed snippet")
    ] = "https://techmatch.example",
) -> None:
    """Create a key and print it, alone on the last line: it is shown this once and stored only as a hash.

    With --publishable the widget's snippet is printed first (on stderr), ready to paste into the website."""
    from rich.console import Console

    from app.core.cli import database_session, fail
    from app.core.errors import AppError
    from app.keys.service import create_key, create_publishable_key

    if publishable != bool(origin) or (publishable and scopes):
        fail("--publishable needs at least one --origin and no --scopes; --origin only goes with --publishable")
    if not publishable and not scopes:
        fail("--scopes is required (or --publishable with --origin)")
    try:
        with database_session() as session:
            if publishable:
                new = create_publishable_key(
                    session, tenant=tenant, origins=origin or [], name=name, rate_limit=rate_limit
                )
            else:
                new = create_key(session, tenant=tenant, scopes=scopes.split(","), name=name, rate_limit=rate_limit)
            summary = f"key {new.key.prefix} for tenant {new.key.tenant}, scopes {','.join(new.key.scopes)}"
            if new.key.origins:
                summary += f", origins {' '.join(new.key.origins)}"
    except AppError as exc:
        fail(exc.detail)
    console = Console(stderr=True, soft_wrap=True)
    if publishable:
        console.print(widget_snippet(site=site, key=new.secret), highlight=False, markup=False)
        console.print(f"created {summary}; it is public by design: it can only submit needs", highlight=False)
    else:
        console.print(f"created {summary}; store it now, it cannot be shown again", highlight=False)
    typer.echo(new.secret)


def widget_snippet(*, site: str, key: str) -> str:
    """The HTML a cluster pastes into its website: the script, or the plain iframe where scripts are not allowed."""
    site = site.rstrip("/")
    return (
        "Paste one of these into the page of your website where the form should appear:\n\n"
        f'<script src="{site}/static/widget-embed.js" data-key="{key}" async></script>\n\n'
        f'<iframe src="{site}/widget?key={key}" title="Send us your need"'
        ' style="width:100%;max-width:42rem;height:760px;border:0" loading="lazy"></iframe>\n'
    )


@keys_cli.command("list")
def list_(
    tenant: Annotated[str | None, typer.Option(help="only this tenant's keys")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on the last line")] = False,
) -> None:
    """Every key with its prefix, tenant, scopes and state; never the secret."""
    from rich.console import Console
    from rich.table import Table

    from app.core.cli import database_session
    from app.keys.service import list_keys

    with database_session() as session:
        rows: list[_KeyRow] = [
            {
                "prefix": key.prefix,
                "tenant": key.tenant,
                "name": key.name,
                "scopes": key.scopes,
                "origins": key.origins,
                "rate_limit": key.rate_limit,
                "created_at": key.created_at.isoformat(timespec="seconds"),
                "last_used_at": key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else None,
                "revoked_at": key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else None,
            }
            for key in list_keys(session, tenant=tenant)
        ]
    if as_json:
        typer.echo(json.dumps({"keys": rows}))
        return
    table = Table("prefix", "tenant", "name", "scopes", "created", "last used", "state")
    for row in rows:
        table.add_row(
            row["prefix"],
            row["tenant"],
            row["name"],
            ",".join(row["scopes"]),
            row["created_at"],
            row["last_used_at"] or "never",
            f"revoked {row['revoked_at']}" if row["revoked_at"] else "active",
        )
    Console(soft_wrap=False, width=200).print(table)


@keys_cli.command("revoke")
def revoke(prefix: Annotated[str, typer.Argument(help="the key's prefix, as `keys list` shows it")]) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    from app.core.cli import database_session, fail
    from app.core.errors import AppError
    from app.keys.service import revoke_key

    try:
        with database_session() as session:
            key = revoke_key(session, prefix=prefix)
            message = f"revoked key {key.prefix} of tenant {key.tenant}"
    except AppError as exc:
        fail(exc.detail)
    typer.echo(message)
