"""Competences: what an offering's users must be able to do, set against what the SME's people can already do.

Both are short phrases in the parties' own words ("PLC programming", "svejsning"). They are explained,
never scored: the score stays the probability that the offering solves the need, and the gap says
what the SME would have to learn (or hire) to use it.
"""

from __future__ import annotations

from collections.abc import Sequence

from matching.language.glossary import gloss
from matching.retrieval.bm25 import tokenize


def _words(phrase: str) -> frozenset[str]:
    """The stemmed content words, of the phrase and of its glossary reading ("svejsning" meets "welding")."""
    return frozenset(tokenize(phrase)) | frozenset(tokenize(gloss(phrase)))


def covers(skill: str, competence: str) -> bool:
    """Whether `skill` (the SME's) covers `competence` (the offering's): the same phrase, or every content word
    of the competence among the skill's ("TIG welding procedures" covers "welding procedures", "welding"
    does not cover "robot welding"). Strict on purpose: a gap named wrongly costs a question, a gap
    missed costs a failed pilot."""
    if skill.strip().casefold() == competence.strip().casefold():
        return True
    needed = _words(competence)
    return bool(needed) and needed <= _words(skill)


def competence_gap(competences: Sequence[str], skills: Sequence[str]) -> tuple[str, ...]:
    """The offering's competences no skill of the SME covers, in the offering's words and order."""
    return tuple(c for c in competences if not any(covers(skill, c) for skill in skills))
