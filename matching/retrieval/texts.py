"""Profiles to text: what gets embedded and indexed, plus sentence splitting and hashing."""

from __future__ import annotations

import hashlib
import re

from matching.language.wording import category_label, sector_label
from matching.types import Need, Technology

# Split after . ! ? ; or a line break, when followed by space and an upper-case letter or digit.
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[\"'(\[]?[A-ZÆØÅÄÖÜ0-9])|\n+")


def technology_text(technology: Technology) -> str:
    """Title, description, then category and sector labels (they help both BM25 and embeddings)."""
    parts = [technology.title.strip(), technology.description.strip()]
    if technology.categories:
        parts.append("Categories: " + ", ".join(category_label(c) for c in technology.categories) + ".")
    if technology.sectors:
        parts.append("Sectors: " + ", ".join(sector_label(s) for s in technology.sectors) + ".")
    return "\n".join(p for p in parts if p)


def own_text(title: str, description: str) -> str:
    """What a party wrote itself: its title and description, never the lines the system adds."""
    return "\n".join(p for p in (title.strip(), description.strip()) if p)


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
