"""`techmatch match`: rank the catalogue's technologies for a need typed on the command line."""

from __future__ import annotations

import json
from typing import Annotated

import typer

# The API's largest k (app.core.settings.MAX_K), repeated so that this module imports nothing heavy.
MAX_K = 50


def match(
    text: Annotated[str, typer.Argument(help="the need, in plain words")],
    k: Annotated[int | None, typer.Option("--k", min=1, max=MAX_K, help="how many")] = None,
    budget: Annotated[int | None, typer.Option(help="budget in EUR", min=0)] = None,
    min_trl: Annotated[int | None, typer.Option(help="minimum TRL", min=1, max=9)] = None,
    region: Annotated[str | None, typer.Option(help="region to be served, e.g. DK-81")] = None,
    lang: Annotated[list[str] | None, typer.Option(help="accepted language (repeatable)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on the last line")] = False,
) -> None:
    """Rank the catalogue's technologies for a need, with reasons."""
    from pydantic import ValidationError
    from rich.console import Console
    from rich.table import Table

    from app.catalogue.schemas import ConstraintsIn
    from app.core.cli import fail, load_matcher, load_settings, one_line, open_database
    from app.core.database import unit_of_work
    from app.core.errors import AppError
    from app.indexing.service import sync_index
    from app.learning.service import load_ranking
    from app.matches.schemas import AdHocMatchRequest
    from app.matches.service import ad_hoc_matches

    settings = load_settings()
    try:
        request = AdHocMatchRequest(
            text=text,
            k=k,
            constraints=ConstraintsIn(budget_eur_max=budget, min_trl=min_trl, region=region, languages=lang or None),
        )
    except ValidationError as exc:
        fail(one_line(exc))
    _, factory = open_database(settings)
    matcher = load_matcher(settings)
    try:
        with unit_of_work(factory) as session:
            sync_index(session, matcher=matcher, index_dir=settings.index_dir, batch_size=settings.encode_batch_size)
            load_ranking(session, matcher=matcher, labels_dir=settings.labels_dir, cache_dir=settings.index_dir)
            result = ad_hoc_matches(session, matcher=matcher, request=request, settings=settings)
    except AppError as exc:
        fail(exc.detail)
    if as_json:
        typer.echo(json.dumps({"query": text, **result.model_dump(mode="json")}, ensure_ascii=False))
        return
    console = Console(soft_wrap=False)
    if not result.items:
        # An empty answer is either an empty catalogue or an honest "nothing fits".
        console.print(result.message or "no technologies in the catalogue yet: run `techmatch load DIR` first")
        return
    table = Table(title=f"top {len(result.items)} technologies ({result.fit} fit)", show_lines=True)
    for column, justify in (
        ("#", "right"),
        ("score", "right"),
        ("technology", "left"),
        ("provider", "left"),
        ("why", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for item in result.items:
        table.add_row(
            str(item.rank),
            f"{item.score:.3f}",
            f"{item.title} [dim]({item.technology_ref or item.technology_id})[/]",
            item.provider_name,
            item.explanation.summary if item.explanation else "",
        )
    console.print(table)
