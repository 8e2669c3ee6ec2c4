"""`techmatch reembed`: encode every stored text with the configured model once and rebuild the index."""

from __future__ import annotations

import json
from typing import Annotated

import typer


def reembed_command(
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on the last line")] = False,
) -> None:
    """Switch the index to TECHMATCH_MODEL: encode the stored texts it has no vector for (progress bar), rebuild."""
    from rich.console import Console

    from app.core.cli import database_session, load_matcher, load_settings
    from app.indexing.reembed import reembed
    from app.indexing.service import use_vector_backend

    settings = load_settings()
    matcher = load_matcher(settings)
    with database_session(settings) as session:
        use_vector_backend(matcher, settings=settings, engine=session.get_bind())  # type: ignore[arg-type]
        result = reembed(
            session,
            matcher=matcher,
            index_dir=settings.index_dir,
            batch_size=settings.encode_batch_size,
            console=Console(stderr=True),
        )
    summary = {
        "model": result.model,
        "index": result.sync.outcome,
        "reason": result.sync.reason,
        "encoded": result.encoded,
        "technologies": result.sync.technologies,
        "needs": result.sync.needs,
    }
    if as_json:
        typer.echo(json.dumps(summary))
        return
    outcome = "index rebuilt" if result.sync.outcome == "rebuilt" else "index already current"
    typer.echo(
        f"{result.model}: {outcome}, {result.encoded} texts encoded, "
        f"{result.sync.technologies} technologies and {result.sync.needs} needs indexed"
    )
