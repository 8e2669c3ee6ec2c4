"""Constraint verdicts: budget, minimum TRL, region served and language, each naming the numbers it compared."""

from __future__ import annotations

from collections.abc import Mapping

from matching.language.wording import language_name, region_name, wording_language
from matching.types import DANISH_REGIONS, Constraints, ConstraintVerdict, Technology

# Each verdict's wording per language; the need's language for the SME, English for a provider.
_DETAILS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "budget_unknown": "no price stated; budget {budget}",
        "budget_over": "price from {price} is above the budget of {budget}",
        "budget_within": "price from {price} is within the budget of {budget}",
        "trl_unknown": "TRL not stated; minimum TRL {required}",
        "trl_ok": "TRL {trl} is at or above the required {required}",
        "trl_low": "TRL {trl} is below the required {required}",
        "region_ok": "serves {name} ({region})",
        "region_no": "does not serve {name} ({region}); serves {served}",
        "anywhere": "anywhere",
        "language_ok": "offered in {languages}",
        "language_no": "not offered in {wanted}; offered in {offered}",
    },
    "da": {
        "budget_unknown": "ingen pris oplyst; budget {budget}",
        "budget_over": "pris fra {price} er over budgettet på {budget}",
        "budget_within": "pris fra {price} er inden for budgettet på {budget}",
        "trl_unknown": "TRL ikke oplyst; mindst TRL {required}",
        "trl_ok": "TRL {trl} opfylder kravet om mindst {required}",
        "trl_low": "TRL {trl} er under kravet om mindst {required}",
        "region_ok": "dækker {name} ({region})",
        "region_no": "dækker ikke {name} ({region}); dækker {served}",
        "anywhere": "alle steder",
        "language_ok": "tilbydes på {languages}",
        "language_no": "tilbydes ikke på {wanted}; tilbydes på {offered}",
    },
}


def region_served(region: str, regions_served: tuple[str, ...]) -> bool:
    """FORMAT.md's rule: the exact code, its country ("DK" covers DK-81..85), or "EU" covers it."""
    if not regions_served:
        return True
    if region in regions_served or "EU" in regions_served:
        return True
    return region in DANISH_REGIONS and "DK" in regions_served


def _eur(amount: int, language: str) -> str:
    # 70,000 EUR in English, 70.000 EUR in Danish.
    text = f"{amount:,} EUR"
    return text.replace(",", ".") if language == "da" else text


def _languages(codes: tuple[str, ...], language: str) -> str:
    return ", ".join(language_name(c, language) for c in codes)


def check_constraints(
    constraints: Constraints, technology: Technology, *, language: str = "en"
) -> tuple[ConstraintVerdict, ...]:
    """One verdict per stated constraint, each naming the numbers it compared, worded in `language`."""
    language = wording_language(language)
    words = _DETAILS[language]
    verdicts: list[ConstraintVerdict] = []
    budget = constraints.budget_eur_max
    if budget is not None:
        price = technology.price_min_eur
        if price is None:
            detail = words["budget_unknown"].format(budget=_eur(budget, language))
            verdicts.append(ConstraintVerdict("budget", True, detail))
        else:
            key = "budget_over" if price > budget else "budget_within"
            detail = words[key].format(price=_eur(price, language), budget=_eur(budget, language))
            verdicts.append(ConstraintVerdict("budget", price <= budget, detail))
    if constraints.min_trl is not None:
        trl = technology.trl
        if trl is None:
            verdicts.append(
                ConstraintVerdict("min_trl", True, words["trl_unknown"].format(required=constraints.min_trl))
            )
        else:
            ok = trl >= constraints.min_trl
            detail = words["trl_ok" if ok else "trl_low"].format(trl=trl, required=constraints.min_trl)
            verdicts.append(ConstraintVerdict("min_trl", ok, detail))
    if constraints.region is not None:
        region = constraints.region
        name = region_name(region, language)
        served = ", ".join(technology.regions_served) or words["anywhere"]
        ok = region_served(region, technology.regions_served)
        detail = words["region_ok" if ok else "region_no"].format(name=name, region=region, served=served)
        verdicts.append(ConstraintVerdict("region", ok, detail))
    if constraints.languages:
        wanted = tuple(constraints.languages)
        offered = technology.languages
        shared = tuple(c for c in wanted if c in offered)
        if not offered or shared:
            detail = words["language_ok"].format(languages=_languages(shared or wanted, language))
            verdicts.append(ConstraintVerdict("languages", True, detail))
        else:
            detail = words["language_no"].format(
                wanted=_languages(wanted, language), offered=_languages(offered, language)
            )
            verdicts.append(ConstraintVerdict("languages", False, detail))
    return tuple(verdicts)
