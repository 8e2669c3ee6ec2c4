"""Explanations quote only the parties' own words, leave out words that say nothing, and address their reader."""

from __future__ import annotations

from matching.encoders.hashing import HashingEncoder
from matching.matcher import Matcher
from matching.ranking.explanation import shared_terms
from matching.types import Constraints, Need, Technology
from tests.matching.conftest import BEARING_NEED, TECHNOLOGIES, build_matcher


def test_evidence_sentences_come_from_the_descriptions_only(hashing_matcher: Matcher) -> None:
    by_id = {t.id: t for t in TECHNOLOGIES}
    for match in hashing_matcher.match(BEARING_NEED, k=len(TECHNOLOGIES)):
        technology = by_id[match.technology_id]
        for pair in match.explanation.sentence_pairs:
            assert pair.technology_sentence in technology.description
            assert not pair.technology_sentence.startswith(("Categories:", "Sectors:"))
            assert pair.technology_sentence != technology.title
            assert pair.need_sentence in BEARING_NEED.description


def test_shared_terms_leave_out_stop_words_and_common_words() -> None:
    need = "The bearing in our pump fails and we need a system that warns us"
    offer = "A system of sensors on each pump bearing warns weeks before it fails"
    assert shared_terms(need, offer) == ("bearing", "pump", "fails", "system", "warns")
    # A stem most of the catalogue uses ("system") explains nothing.
    assert shared_terms(need, offer, common={"system"}) == ("bearing", "pump", "fails", "warns")


def test_a_match_is_written_to_the_sme_and_a_lead_to_the_provider(hashing_matcher: Matcher) -> None:
    match = hashing_matcher.match(BEARING_NEED, k=1)[0]
    assert match.explanation.summary.startswith(("Strong match", "Good match", "Possible match", "Weak match"))
    assert "you wrote" in match.explanation.summary or not match.explanation.sentence_pairs
    technology = next(t for t in TECHNOLOGIES if t.id == match.technology_id)
    lead = hashing_matcher.leads(technology, k=1)[0]
    summary = lead.explanation.summary
    assert summary.split(":")[0] in {"Strong lead", "Good lead", "Possible lead", "Weak lead"}
    assert "your offering says" in summary or not lead.explanation.sentence_pairs
    assert "you wrote" not in summary and 'your "' not in summary
    assert lead.explanation.language == "en"


def test_a_danish_need_reads_its_constraints_and_categories_in_danish() -> None:
    matcher = build_matcher(HashingEncoder())
    danish = Need(
        id=0,
        title="Lejer går i stykker",
        description="Lejerne i vores pumper går i stykker uden varsel, og vi mister hele vagter.",
        lang="da",
        constraints=Constraints(budget_eur_max=5000, region="DK-81"),
    )
    explanation = matcher.match(danish, k=1)[0].explanation
    assert explanation.language == "da"
    details = " ".join(v.detail for v in explanation.constraints)
    assert "budgettet på 5.000 EUR" in details and "Region Nordjylland" in details
    assert "sandsynligt at den løser problemet" in explanation.summary


def test_evidence_is_absent_rather_than_invented_for_an_offering_without_a_description() -> None:
    bare = Technology(id=5, title="Laser marking station", description="", categories=("laser-processing",))
    matcher = build_matcher(HashingEncoder(), technologies=(*TECHNOLOGIES, bare))
    need = Need(id=0, title="", description="We must mark serial numbers on steel parts with a laser.")
    match = next(m for m in matcher.match(need, k=10) if m.technology_id == 5)
    # The title is the only text the provider gave: it may be quoted, a system line never.
    assert all(p.technology_sentence == bare.title for p in match.explanation.sentence_pairs)


def _competence_matcher() -> Matcher:
    import dataclasses

    technologies = [
        dataclasses.replace(t, competences=("vibration analysis", "PLC programming")) if t.id == 11 else t
        for t in TECHNOLOGIES
    ]
    matcher = build_matcher(HashingEncoder())
    matcher.catalogue.build(
        technologies=technologies,
        technology_vectors=matcher.encode_technologies(technologies),
        needs=[],
        need_vectors=matcher.encode_needs([]),
    )
    return matcher


def test_the_competence_gap_is_named_in_the_needs_language() -> None:
    matcher = _competence_matcher()
    english = Need(
        id=0,
        title="Bearings fail",
        description="Vibration sensors to warn before a bearing in our pumps fails.",
        skills=("PLC programming", "welding"),
    )
    explanation = next(m for m in matcher.match(english, k=5) if m.technology_id == 11).explanation
    assert explanation.competences == ("vibration analysis", "PLC programming")
    assert explanation.competence_gap == ("vibration analysis",)
    assert "your people would need to learn vibration analysis" in explanation.summary

    danish = Need(
        id=0,
        title="Lejer går i stykker",
        description="Lejerne i vores pumper går i stykker uden varsel, vi vil have vibrationsmåling.",
        lang="da",
        skills=("PLC-programmering",),
    )
    explanation = next(m for m in matcher.match(danish, k=5) if m.technology_id == 11).explanation
    assert explanation.competence_gap == ("vibration analysis",)  # the Danish skill covers PLC programming
    assert "jeres medarbejdere skal lære vibration analysis" in explanation.summary

    skilled = Need(
        id=0, title=english.title, description=english.description, skills=(*english.skills, "Vibration analysis")
    )
    explanation = next(m for m in matcher.match(skilled, k=5) if m.technology_id == 11).explanation
    assert explanation.competence_gap == () and "your people have the skills it needs" in explanation.summary
    # An offering that states no competences says nothing about them.
    other = next(m for m in matcher.match(skilled, k=5) if m.technology_id != 11).explanation
    assert other.competences == () and "skills" not in other.summary and "learn" not in other.summary


def test_a_lead_names_the_gap_to_the_provider() -> None:
    matcher = _competence_matcher()
    need = Need(
        id=7,
        title="Bearings fail",
        description="Vibration sensors to warn before a bearing fails.",
        company_id=1,
        company_name="Nordby Metal",
    )
    matcher.catalogue.upsert_needs([need], matcher.encode_needs([need]))
    technology = next(t for t in matcher.catalogue.technologies.records.values() if t.id == 11)
    lead = matcher.leads(technology, k=1)[0].explanation
    assert "their people would need to learn vibration analysis, PLC programming" in lead.summary
