"""Engine fixtures: a tiny catalogue whose right answers are known, and encoders to rank it."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from matching.encoders.base import DEFAULT_MODEL, Encoder
from matching.encoders.factory import load_encoder
from matching.encoders.hashing import HashingEncoder
from matching.matcher import Matcher
from matching.types import Constraints, Need, Technology

TECHNOLOGIES = (
    Technology(
        id=11,
        title="Vibration monitoring for predictive maintenance",
        description=(
            "Wireless vibration and temperature sensors on motors, pumps and gearboxes. "
            "Our analytics warn two to six weeks before a bearing fails, so repairs are planned. "
            "Customers cut unplanned downtime by 40%."
        ),
        categories=("predictive-maintenance", "iot-sensors"),
        sectors=("metal", "food"),
        trl=9,
        price_min_eur=12000,
        price_max_eur=30000,
        languages=("da", "en"),
        regions_served=("DK",),
    ),
    Technology(
        id=22,
        title="Robotic MIG welding cell",
        description=(
            "A six-axis welding robot on a two-station positioner for small batches. "
            "Offline programming from CAD keeps the arc burning while the next part is loaded."
        ),
        categories=("robotics",),
        sectors=("metal", "machinery"),
        trl=9,
        price_min_eur=90000,
        price_max_eur=200000,
        languages=("da", "en"),
        regions_served=("DK-81", "DK-82"),
    ),
    Technology(
        id=33,
        title="Demand forecasting for bakeries",
        description=(
            "Machine learning forecasts daily demand per shop from sales history, weather and holidays. "
            "Bakeries bake closer to what sells and waste less bread."
        ),
        categories=("ai-ml", "data-analytics"),
        sectors=("food",),
        trl=8,
        price_min_eur=6000,
        price_max_eur=15000,
        languages=("en",),
        regions_served=("EU",),
    ),
    Technology(
        id=44,
        title="Laser marking of serial numbers",
        description=(
            "Fibre laser marking writes data matrix codes and serial numbers into metal parts. "
            "The marks survive galvanising and powder coating, so every part stays traceable."
        ),
        categories=("laser-processing",),
        sectors=("metal",),
        trl=9,
        price_min_eur=40000,
        price_max_eur=70000,
        languages=("de", "en"),
        regions_served=("DE", "NL"),
    ),
    Technology(
        id=55,
        title="Condition monitoring retrofit kit for old machines",
        description=(
            "A retrofit kit of vibration sensors and a gateway for machines without a PLC. "
            "Alerts go to the maintenance team before a bearing or a belt fails."
        ),
        categories=("predictive-maintenance",),
        sectors=("metal", "wood-furniture"),
        trl=7,
        price_min_eur=60000,
        price_max_eur=80000,
        languages=("de",),
        regions_served=("DE",),
    ),
)

BEARING_NEED = Need(
    id=7,
    title="Bearings fail without warning",
    description=(
        "Our press line stops two or three times a month because a bearing fails without warning. "
        "Each stop costs a shift of production. We want to know before it happens."
    ),
    sector="metal",
    constraints=Constraints(budget_eur_max=50000, region="DK-83", languages=("da",)),
)


def build_matcher(encoder: Encoder, *, technologies: Sequence[Technology] = TECHNOLOGIES) -> Matcher:
    matcher = Matcher(encoder)
    vectors = matcher.encode_technologies(technologies)
    matcher.catalogue.build(
        technologies=technologies,
        technology_vectors=vectors,
        needs=[BEARING_NEED],
        need_vectors=matcher.encode_needs([BEARING_NEED]),
    )
    return matcher


@pytest.fixture
def hashing_matcher() -> Matcher:
    return build_matcher(HashingEncoder())


@pytest.fixture(scope="session")
def real_encoder() -> Encoder:
    return load_encoder(DEFAULT_MODEL)


@pytest.fixture
def real_matcher(real_encoder: Encoder) -> Matcher:
    return build_matcher(real_encoder)
