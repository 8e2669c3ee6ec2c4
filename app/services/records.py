"""Database rows to the engine's plain records."""

from __future__ import annotations

from app import models
from matching import types


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
    )
