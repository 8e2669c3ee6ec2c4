import numpy as np
import pytest

from matching.ranking.constraints import check_constraints, region_served
from matching.ranking.taxonomy import category_affinity
from matching.types import Constraints, Technology

OFFER = Technology(
    id=1,
    title="t",
    description="d",
    trl=6,
    price_min_eur=40000,
    price_max_eur=60000,
    languages=("en", "de"),
    regions_served=("DK", "DE"),
)


@pytest.mark.parametrize(
    ("region", "served", "expected"),
    [
        ("DK-81", ("DK",), True),
        ("DK-81", ("DK-82",), False),
        ("NO", ("EU",), True),
        ("SE", ("DK",), False),
        ("DE", ("DE", "NL"), True),
        ("DK-84", ("DK-84",), True),
    ],
)
def test_region_rules_follow_the_benchmark_convention(region, served, expected):
    assert region_served(region, served) is expected


def test_each_constraint_is_judged_with_its_numbers():
    verdicts = {
        v.name: v
        for v in check_constraints(Constraints(budget_eur_max=25000, min_trl=7, region="SE", languages=("da",)), OFFER)
    }
    assert set(verdicts) == {"budget", "min_trl", "region", "languages"}
    assert not verdicts["budget"].satisfied
    assert verdicts["budget"].detail == "price from 40,000 EUR is above the budget of 25,000 EUR"
    assert not verdicts["min_trl"].satisfied and "TRL 6" in verdicts["min_trl"].detail
    assert not verdicts["region"].satisfied and "Sweden" in verdicts["region"].detail
    assert not verdicts["languages"].satisfied and "Danish" in verdicts["languages"].detail


def test_satisfied_constraints_say_so_and_missing_price_violates_nothing():
    offer = Technology(id=2, title="t", description="d", trl=8, languages=("da",), regions_served=("EU",))
    verdicts = check_constraints(
        Constraints(budget_eur_max=10000, min_trl=7, region="DK-85", languages=("da", "en")), offer
    )
    assert all(v.satisfied for v in verdicts)
    assert check_constraints(Constraints(), offer) == ()


def test_verdicts_are_worded_in_the_need_language():
    verdicts = {
        v.name: v
        for v in check_constraints(
            Constraints(budget_eur_max=25000, min_trl=7, region="SE", languages=("da",)), OFFER, language="da"
        )
    }
    assert verdicts["budget"].detail == "pris fra 40.000 EUR er over budgettet på 25.000 EUR"
    assert verdicts["min_trl"].detail == "TRL 6 er under kravet om mindst 7"
    assert verdicts["region"].detail == "dækker ikke Sverige (SE); dækker DK, DE"
    assert verdicts["languages"].detail == "tilbydes ikke på dansk; tilbydes på engelsk, tysk"
    # The verdicts themselves do not depend on the wording.
    english = check_constraints(Constraints(budget_eur_max=25000, min_trl=7, region="SE", languages=("da",)), OFFER)
    assert [v.satisfied for v in english] == [v.satisfied for v in verdicts.values()]
    # A language without wording of its own reads English.
    assert check_constraints(Constraints(min_trl=7), OFFER, language="de")[0].detail.startswith("TRL 6 is below")


def test_category_affinity_keeps_the_top_categories():
    affinity = category_affinity(np.array([0.9, 0.1, 0.5, 0.3, 0.2]), top=3)
    assert affinity[0] == 1.0
    assert affinity[1] == 0.0 and affinity[4] == 0.0
    assert 0 < affinity[2] < 1
