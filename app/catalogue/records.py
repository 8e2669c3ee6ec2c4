"""Database rows to the engine's plain records."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Cast, Text, cast, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app import models
from app.core.queries import chunks
from matching import types

# Bound parameters per IN clause (SQLite's limit is far above; few round trips).
_IN_CHUNK = 5000


def technology_record(row: models.Technology) -> types.Technology:
    return types.Technology(
        id=row.id,
        title=row.title,
        description=row.description,
        provider_id=row.provider_id,
        provider_name=row.provider.name,
        categories=tuple(row.categories),
        sectors=tuple(row.sectors),
        trl=row.trl,
        price_min_eur=row.price_min_eur,
        price_max_eur=row.price_max_eur,
        languages=tuple(row.languages),
        regions_served=tuple(row.regions_served),
        competences=tuple(row.competences or ()),
    )


def need_record(row: models.Need) -> types.Need:
    return types.Need(
        id=row.id,
        title=row.title,
        description=row.description,
        lang=row.lang,
        constraints=types.Constraints(
            budget_eur_max=row.budget_eur_max,
            min_trl=row.min_trl,
            region=row.region,
            languages=tuple(row.languages) if row.languages else None,
        ),
        company_id=row.company_id,
        company_name=row.company.name,
        sector=row.company.sector,
        skills=tuple(row.company.skills or ()),
    )


# Start-up reads every row: selecting the columns the engine needs, joined in one query, skips building
# an ORM object (and its identity-map entry) per row, which the profile showed at 10^5 technologies.
# List columns are read as their JSON text and decoded through a cache: a catalogue repeats a few
# category, sector, language and region lists, and decoding each row's JSON was most of the read.


def _json_list(column: InstrumentedAttribute[Any]) -> Cast[str]:
    return cast(column, Text)


@lru_cache(maxsize=4096)
def _decoded(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text) or ())  # a JSON null reads as no entries


def _as_tuple(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else _decoded(text)


_TECHNOLOGY_COLUMNS = (
    models.Technology.id,
    models.Technology.title,
    models.Technology.description,
    models.Technology.provider_id,
    models.Provider.name,
    _json_list(models.Technology.categories),
    _json_list(models.Technology.sectors),
    models.Technology.trl,
    models.Technology.price_min_eur,
    models.Technology.price_max_eur,
    _json_list(models.Technology.languages),
    _json_list(models.Technology.regions_served),
    _json_list(models.Technology.competences),
)
_NEED_COLUMNS = (
    models.Need.id,
    models.Need.title,
    models.Need.description,
    models.Need.lang,
    models.Need.budget_eur_max,
    models.Need.min_trl,
    models.Need.region,
    _json_list(models.Need.languages),
    models.Need.company_id,
    models.Company.name,
    models.Company.sector,
    _json_list(models.Company.skills),
)


def all_technology_records(session: Session) -> list[types.Technology]:
    """Every technology as an engine record, by id, read as plain columns (same values as `technology_record`)."""
    return _technology_records(session, None)


def technology_records(session: Session, ids: Collection[int]) -> list[types.Technology]:
    """The technologies of `ids` that exist, by id, as `all_technology_records` reads them."""
    found: list[types.Technology] = []
    for chunk in chunks(sorted(ids), _IN_CHUNK):
        found += _technology_records(session, chunk)
    return found


def _technology_records(session: Session, ids: Sequence[int] | None) -> list[types.Technology]:
    query = (
        select(*_TECHNOLOGY_COLUMNS)
        .join(models.Provider, models.Technology.provider_id == models.Provider.id)
        .order_by(models.Technology.id)
    )
    if ids is not None:
        query = query.where(models.Technology.id.in_(ids))
    return [
        types.Technology(
            id=ident,
            title=title,
            description=description,
            provider_id=provider_id,
            provider_name=provider_name,
            categories=_decoded(categories),
            sectors=_decoded(sectors),
            trl=trl,
            price_min_eur=price_min,
            price_max_eur=price_max,
            languages=_decoded(languages),
            regions_served=_decoded(regions),
            competences=_as_tuple(competences) or (),
        )
        for (
            ident,
            title,
            description,
            provider_id,
            provider_name,
            categories,
            sectors,
            trl,
            price_min,
            price_max,
            languages,
            regions,
            competences,
        ) in session.execute(query)
    ]


def all_need_records(session: Session) -> list[types.Need]:
    """Every need as an engine record, by id, read as plain columns (same values as `need_record`)."""
    return _need_records(session, None)


def need_records(session: Session, ids: Collection[int]) -> list[types.Need]:
    """The needs of `ids` that exist, by id, as `all_need_records` reads them."""
    found: list[types.Need] = []
    for chunk in chunks(sorted(ids), _IN_CHUNK):
        found += _need_records(session, chunk)
    return found


def _need_records(session: Session, ids: Sequence[int] | None) -> list[types.Need]:
    query = (
        select(*_NEED_COLUMNS)
        .join(models.Company, models.Need.company_id == models.Company.id)
        .order_by(models.Need.id)
    )
    if ids is not None:
        query = query.where(models.Need.id.in_(ids))
    return [
        types.Need(
            id=ident,
            title=title,
            description=description,
            lang=lang,
            constraints=types.Constraints(
                budget_eur_max=budget,
                min_trl=min_trl,
                region=region,
                languages=_as_tuple(languages) or None,
            ),
            company_id=company_id,
            company_name=company_name,
            sector=sector,
            skills=_as_tuple(skills) or (),
        )
        for (
            ident,
            title,
            description,
            lang,
            budget,
            min_trl,
            region,
            languages,
            company_id,
            company_name,
            sector,
            skills,
        ) in session.execute(query)
    ]
