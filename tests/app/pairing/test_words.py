"""A plan's totals and an optimiser run's label in plain words: English for the API, the reader's language on
the facilitator's pages."""

from __future__ import annotations

from functools import partial

from app.facilitator import runs
from app.jobs import service as jobs
from app.models import Job, JobStatus
from app.pairing.schemas import PairingTotals
from app.pairing.service import totals_summary
from app.web.i18n import gettext

DANISH = partial(gettext, "da")


def _totals(**changes: object) -> PairingTotals:
    figures = {
        "total_score": 14.6,
        "expected_useful_demonstrations": 14.6,
        "greedy_total_score": 15.1,
        "greedy_covered_companies": 53,
        "optimal": True,
        "bound": 14.6,
        "gap": 0.0,
        "pairs": 108,
        "covered_companies": 54,
        "unassigned_companies": 0,
        "worst_best_score": 0.1,
        "rounds": 4,
        "unscheduled": 0,
        "seconds": 0.4,
    }
    return PairingTotals.model_validate(figures | changes)


def test_the_summary_says_what_the_greedy_comparison_means_in_english_and_danish() -> None:
    english = totals_summary(_totals(), fairness="coverage", companies=54)
    assert english == (
        "14.6 useful demonstrations expected from 108 demos; 54 of 54 SMEs get a demo. Aim: as many SMEs as "
        "possible with a demo first, then the most useful demonstrations (proven optimal). For comparison, greedy "
        "(best pairs first, ignoring fairness): 15.1 with 53 SMEs given a demo; its higher total leaves 1 more SME "
        "without a demo, which this plan's fairness does not allow."
    )
    danish = totals_summary(_totals(), fairness="coverage", companies=54, say=DANISH)
    assert danish.startswith("14.6 nyttige demonstrationer forventes ud af 108 demoer; 54 af 54 SMV'er får en demo.")
    assert "bevist optimal" in danish and "efterlader 1 SMV mere uden en demo" in danish
    assert "useful" not in danish and "%(" not in danish
    # Two SMEs left out by greedy: the plural, in both languages.
    two = _totals(greedy_covered_companies=52)
    assert "leaves 2 more SMEs without" in totals_summary(two, fairness="coverage", companies=54)
    assert "efterlader 2 SMV'er mere uden" in totals_summary(two, fairness="coverage", companies=54, say=DANISH)


def test_a_runs_label_is_made_in_the_readers_language() -> None:
    planning = Job(kind=jobs.PLAN, payload={"name": "Forårets demodag"})
    assert runs._label(planning, str) == "Planning Forårets demodag"
    assert runs._label(planning, DANISH) == "Planlægger Forårets demodag"
    revision = Job(kind=jobs.REVISE, payload={"plan_id": 3, "number": 2, "name": None})
    assert runs._label(revision, str) == "Revision 2 of the plan"
    assert runs._label(revision, DANISH) == "Revision 2 af planen"
    # A revision queued before labels were made when shown keeps the label it was queued with.
    queued_before = Job(kind=jobs.REVISE, payload={"plan_id": 3, "label": "Revision 2 of Spring demo day"})
    assert runs._label(queued_before, DANISH) == "Revision 2 of Spring demo day"


def test_a_runs_progress_is_said_in_the_readers_language() -> None:
    running = Job(kind=jobs.PLAN, payload={"name": "Forårets demodag"}, status=JobStatus.running)
    running.message, running.progress = "optimising the day", 0.5
    assert runs._run(running, DANISH).message == "optimerer dagen"
    assert runs._run(running, str).message == "optimising the day"
    waiting = Job(kind=jobs.PLAN, payload={}, status=JobStatus.queued, message="")
    assert runs._run(waiting, DANISH).message == "venter på en ledig proces"
