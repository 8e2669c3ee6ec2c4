"""Words the engine writes into explanations, in English and Danish: categories, sectors, regions, languages."""

from __future__ import annotations

from collections.abc import Mapping

# Languages explanations are written in; anything else is written in English.
LANGUAGES: tuple[str, ...] = ("en", "da")

CATEGORY_LABELS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "robotics": "robotics",
        "cobots": "collaborative robots",
        "machine-vision": "machine vision",
        "ai-ml": "AI and machine learning",
        "iot-sensors": "IoT sensors",
        "predictive-maintenance": "predictive maintenance",
        "digital-twin": "digital twin",
        "simulation": "simulation",
        "additive-manufacturing": "additive manufacturing, 3D printing",
        "ar-vr": "augmented and virtual reality",
        "mes-erp": "MES and ERP",
        "scheduling-optimisation": "production scheduling and optimisation",
        "cybersecurity": "cybersecurity",
        "cloud-edge": "cloud and edge computing",
        "energy-management": "energy management",
        "logistics-agv": "intralogistics and AGVs",
        "quality-control": "quality control",
        "plm-cad": "PLM and CAD",
        "data-analytics": "data analytics",
        "laser-processing": "laser processing",
    },
    "da": {
        "robotics": "robotter",
        "cobots": "samarbejdende robotter",
        "machine-vision": "machine vision",
        "ai-ml": "AI og maskinlæring",
        "iot-sensors": "IoT-sensorer",
        "predictive-maintenance": "forudsigende vedligehold",
        "digital-twin": "digital tvilling",
        "simulation": "simulering",
        "additive-manufacturing": "3D-print",
        "ar-vr": "AR og VR",
        "mes-erp": "MES og ERP",
        "scheduling-optimisation": "produktionsplanlægning",
        "cybersecurity": "it-sikkerhed",
        "cloud-edge": "cloud og edge",
        "energy-management": "energistyring",
        "logistics-agv": "intern logistik og AGV'er",
        "quality-control": "kvalitetskontrol",
        "plm-cad": "PLM og CAD",
        "data-analytics": "dataanalyse",
        "laser-processing": "laserbearbejdning",
    },
}
SECTOR_LABELS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "metal": "metal",
        "plastics": "plastics",
        "food": "food",
        "wood-furniture": "wood and furniture",
        "electronics": "electronics",
        "machinery": "machinery",
        "textile": "textile",
        "chemicals-pharma": "chemicals and pharma",
        "wind-energy": "wind energy",
        "maritime": "maritime",
        "construction-materials": "construction materials",
        "packaging": "packaging",
    },
    "da": {
        "metal": "metal",
        "plastics": "plast",
        "food": "fødevarer",
        "wood-furniture": "træ og møbler",
        "electronics": "elektronik",
        "machinery": "maskiner",
        "textile": "tekstil",
        "chemicals-pharma": "kemi og medicinal",
        "wind-energy": "vindenergi",
        "maritime": "maritim",
        "construction-materials": "byggematerialer",
        "packaging": "emballage",
    },
}
REGION_NAMES: Mapping[str, Mapping[str, str]] = {
    "en": {
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
    },
    "da": {
        "DK-81": "Region Nordjylland",
        "DK-82": "Region Midtjylland",
        "DK-83": "Region Syddanmark",
        "DK-84": "Region Hovedstaden",
        "DK-85": "Region Sjælland",
        "DK": "Danmark",
        "DE": "Tyskland",
        "SE": "Sverige",
        "NO": "Norge",
        "NL": "Holland",
        "EU": "Europa",
    },
}
LANGUAGE_NAMES: Mapping[str, Mapping[str, str]] = {
    "en": {
        "da": "Danish",
        "en": "English",
        "de": "German",
        "sv": "Swedish",
        "no": "Norwegian",
        "nl": "Dutch",
        "fi": "Finnish",
        "fr": "French",
        "pl": "Polish",
    },
    "da": {
        "da": "dansk",
        "en": "engelsk",
        "de": "tysk",
        "sv": "svensk",
        "no": "norsk",
        "nl": "hollandsk",
        "fi": "finsk",
        "fr": "fransk",
        "pl": "polsk",
    },
}


def wording_language(language: str | None) -> str:
    """The language explanations are written in for `language`: itself where we have words for it, else English."""
    return language if language in LANGUAGES else "en"


def _label(table: Mapping[str, Mapping[str, str]], key: str, language: str | None) -> str:
    words = table[wording_language(language)]
    return words.get(key) or table["en"].get(key) or key.replace("-", " ")


def category_label(category: str, language: str | None = "en") -> str:
    return _label(CATEGORY_LABELS, category, language)


def sector_label(sector: str, language: str | None = "en") -> str:
    return _label(SECTOR_LABELS, sector, language)


def region_name(region: str, language: str | None = "en") -> str:
    return _label(REGION_NAMES, region, language)


def language_name(code: str, language: str | None = "en") -> str:
    return _label(LANGUAGE_NAMES, code, language)
