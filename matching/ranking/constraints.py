"""Constraint verdicts: budget, minimum TRL, region served and language, each naming the numbers it compared."""

from __future__ import annotations

from matching.types import DANISH_REGIONS, Constraints, ConstraintVerdict, Technology

LANGUAGE_NAMES = {
    "da": "Danish",
    "en": "English",
    "de": "German",
    "sv": "Swedish",
    "no": "Norwegian",
    "nl": "Dutch",
    "fi": "Finnish",
    "fr": "French",
    "pl": "Polish",
}

REGION_NAMES = {
    "DK-81": "North Denmark",
    "DK-82": "Central Denmark",
    "DK-83": "Southern Denmark",
    "DK-84": "the Capital Region",
    "DK-85": "Zealand",
    "DK": "Denmark",
    "DE": "Germany",
    "SE": "Sweden",
    "NO": "Norway",
    "NL": "the Netherlands",
    "EU": "Europe",
}


def region_served(region: str, regions_served: tuple[str, ...]) -> bool:
    """FORMAT.md's rule: the exact code, its country ("DK" covers DK-81..85), or "EU" covers it."""
    if not regions_served:
        return True
    if region in regions_served or "EU" in regions_served:
        return True
    return region in DANISH_REGIONS and "DK" in regions_served


def _eur(amount: int) -> str:
    return f"{amount:,} EUR"


def _languages(codes: tuple[str, ...]) -> str:
    return ", ".join(LANGUAGE_NAMES.get(c, c) for c in codes)


def check_constraints(constraints: Constraints, technology: Technology) -> tuple[ConstraintVerdict, ...]:
    """One verdict per stated constraint, each naming the numbers it compared."""
    verdicts: list[ConstraintVerdict] = []
    budget = constraints.budget_eur_max
    if budget is not None:
        price = technology.price_min_eur
        if price is None:
            verdicts.append(ConstraintVerdict("budget", True, f"no price stated; budget {_eur(budget)}"))
        elif price > budget:
            verdicts.append(
                ConstraintVerdict("budget", False, f"price from {_eur(price)} is above the budget of {_eur(budget)}")
            )
        else:
            verdicts.append(
                ConstraintVerdict("budget", True, f"price from {_eur(price)} is within the budget of {_eur(budget)}")
            )
    if constraints.min_trl is not None:
        trl = technology.trl
        if trl is None:
            verdicts.append(ConstraintVerdict("min_trl", True, f"TRL not stated; minimum TRL {constraints.min_trl}"))
        else:
            ok = trl >= constraints.min_trl
            verdicts.append(
                ConstraintVerdict(
                    "min_trl",
                    ok,
                    f"TRL {trl} is {'at or above' if ok else 'below'} the required {constraints.min_trl}",
                )
            )
    if constraints.region is not None:
        region = constraints.region
        name = REGION_NAMES.get(region, region)
        served = ", ".join(technology.regions_served) or "anywhere"
        ok = region_served(region, technology.regions_served)
        verdicts.append(
            ConstraintVerdict(
                "region",
                ok,
                f"serves {name} ({region})" if ok else f"does not serve {name} ({region}); serves {served}",
            )
        )
    if constraints.languages:
        wanted = tuple(constraints.languages)
        offered = technology.languages
        shared = tuple(c for c in wanted if c in offered)
        if not offered or shared:
            detail = f"offered in {_languages(shared or wanted)}"
            verdicts.append(ConstraintVerdict("languages", True, detail))
        else:
            verdicts.append(
                ConstraintVerdict(
                    "languages",
                    False,
                    f"not offered in {_languages(wanted)}; offered in {_languages(offered)}",
                )
            )
    return tuple(verdicts)
