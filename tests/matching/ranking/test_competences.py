"""A competence gap: the offering's competences no skill of the SME covers, in English or Danish."""

from __future__ import annotations

import pytest

from matching.ranking.competences import competence_gap, covers


@pytest.mark.parametrize(
    ("skill", "competence", "covered"),
    [
        ("PLC programming", "plc programming", True),  # case and spacing do not matter
        ("programming the PLC", "PLC programming", True),  # the same words, stemmed
        ("PLC-programmering", "PLC programming", True),  # Danish, through the glossary
        ("svejsning", "welding", True),
        ("robot programming", "PLC programming", False),  # half the words is not the competence
        ("welding", "welding procedure qualification", False),
        ("TIG welding procedure qualification", "welding procedure qualification", True),
        ("process control", "statistical process control", False),
        ("", "welding", False),
    ],
)
def test_covers(skill: str, competence: str, covered: bool) -> None:
    assert covers(skill, competence) is covered


def test_the_gap_keeps_the_offerings_words_and_order() -> None:
    competences = ("Robot programming (ABB RAPID)", "PLC programming", "basic welding")
    assert competence_gap(competences, ["PLC-programmering", "robot programming ABB RAPID"]) == ("basic welding",)
    assert competence_gap(competences, []) == competences
    assert competence_gap((), ["welding"]) == ()
