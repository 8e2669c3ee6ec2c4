"""Profiles to text: what gets embedded and indexed, plus sentence splitting and hashing."""

from __future__ import annotations

import hashlib
import re

from matching.types import Need, Technology

_CATEGORY_LABELS = {
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
}
_SECTOR_LABELS = {
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
}

# Split after . ! ? ; or a line break, when followed by space and an upper-case letter or digit.
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[\"'(\[]?[A-ZÆØÅÄÖÜ0-9])|\n+")


def category_label(category: str) -> str:
    return _CATEGORY_LABELS.get(category, category.replace("-", " "))


def sector_label(sector: str) -> str:
    return _SECTOR_LABELS.get(sector, sector.replace("-", " "))


def technology_text(technology: Technology) -> str:
    """Title, description, then category and sector labels (they help both BM25 and embeddings)."""
    parts = [technology.title.strip(), technology.description.strip()]
    if technology.categories:
        parts.append("Categories: " + ", ".join(category_label(c) for c in technology.categories) + ".")
    if technology.sectors:
        parts.append("Sectors: " + ", ".join(sector_label(s) for s in technology.sectors) + ".")
    return "\n".join(p for p in parts if p)


def need_text(need: Need) -> str:
    return "\n".join(p for p in (need.title.strip(), need.description.strip()) if p)


def split_sentences(text: str, *, min_chars: int = 12) -> list[str]:
    """Sentences of a profile text; fragments shorter than `min_chars` are merged into the next."""
    pieces = [p.strip() for p in _SENTENCE_END.split(text) if p and p.strip()]
    sentences: list[str] = []
    carry = ""
    for piece in pieces:
        piece = f"{carry} {piece}".strip() if carry else piece
        if len(piece) < min_chars:
            carry = piece
            continue
        sentences.append(piece)
        carry = ""
    if carry:
        if sentences:
            sentences[-1] = f"{sentences[-1]} {carry}"
        else:
            sentences.append(carry)
    return sentences


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
