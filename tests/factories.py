"""Request bodies for the API tests, valid by default; keyword arguments override fields."""

from __future__ import annotations

from itertools import count
from typing import Any

_refs = count(1)


def provider_body(**fields: Any) -> dict[str, Any]:
    return {
        "name": "Aalborg Automation ApS",
        "country": "DK",
        "region": "DK-81",
        "description": "Integrator of robot cells for small manufacturers.",
        "website": "https://aalborg-automation.example",
    } | fields


def technology_body(*, provider_id: int, **fields: Any) -> dict[str, Any]:
    return {
        "ref": f"TX{next(_refs)}",
        "provider_id": provider_id,
        "title": "Vibration monitoring for pumps and motors",
        "description": (
            "Wireless vibration sensors on pumps and motors warn weeks before a bearing fails, "
            "so maintenance is planned instead of urgent."
        ),
        "categories": ["predictive-maintenance", "iot-sensors"],
        "sectors": ["metal", "food"],
        "trl": 8,
        "price_min_eur": 10000,
        "price_max_eur": 30000,
        "languages": ["da", "en"],
        "regions_served": ["DK"],
    } | fields


def company_body(**fields: Any) -> dict[str, Any]:
    return {
        "name": "Skive Pumper A/S",
        "sector": "machinery",
        "employees": 80,
        "region": "DK-82",
        "description": "Makes pumps for district heating.",
    } | fields


def need_body(*, company_id: int, **fields: Any) -> dict[str, Any]:
    return {
        "ref": f"NX{next(_refs)}",
        "company_id": company_id,
        "title": "Pump bearings fail without warning",
        "description": (
            "Bearings in our test-bench pumps fail without warning and stop production for days. "
            "We want to know before they fail."
        ),
        "lang": "en",
        "constraints": {"budget_eur_max": 40000, "min_trl": 6, "region": "DK-82", "languages": None},
    } | fields
