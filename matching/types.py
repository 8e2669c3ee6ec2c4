"""Plain records the engine works on: profiles, constraints, matches and explanations."""

from __future__ import annotations

from dataclasses import dataclass, field

CATEGORIES: tuple[str, ...] = (
    "robotics",
    "cobots",
    "machine-vision",
    "ai-ml",
    "iot-sensors",
    "predictive-maintenance",
    "digital-twin",
    "simulation",
    "additive-manufacturing",
    "ar-vr",
    "mes-erp",
    "scheduling-optimisation",
    "cybersecurity",
    "cloud-edge",
    "energy-management",
    "logistics-agv",
    "quality-control",
    "plm-cad",
    "data-analytics",
    "laser-processing",
)
SECTORS: tuple[str, ...] = (
    "metal",
    "plastics",
    "food",
    "wood-furniture",
    "electronics",
    "machinery",
    "textile",
    "chemicals-pharma",
    "wind-energy",
    "maritime",
    "construction-materials",
    "packaging",
)
DANISH_REGIONS: tuple[str, ...] = ("DK-81", "DK-82", "DK-83", "DK-84", "DK-85")
REGIONS: tuple[str, ...] = (*DANISH_REGIONS, "DK", "DE", "SE", "NO", "NL", "EU")


@dataclass(frozen=True, slots=True)
class Technology:
    """A provider's offering, as the engine sees it."""

    id: int
    title: str
    description: str
    provider_id: int | None = None
    provider_name: str | None = None
    categories: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    trl: int | None = None
    price_min_eur: int | None = None
    price_max_eur: int | None = None
    languages: tuple[str, ...] = ()
    regions_served: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Constraints:
    """What an SME requires of an offering; None means no requirement."""

    budget_eur_max: int | None = None
    min_trl: int | None = None
    region: str | None = None
    languages: tuple[str, ...] | None = None

    def is_empty(self) -> bool:
        return self.budget_eur_max is None and self.min_trl is None and self.region is None and not self.languages


@dataclass(frozen=True, slots=True)
class Need:
    """An SME's problem statement. `id` 0 means an ad-hoc text that is not stored."""

    id: int
    title: str
    description: str
    lang: str = "en"
    constraints: Constraints = field(default_factory=Constraints)
    company_id: int | None = None
    company_name: str | None = None
    sector: str | None = None


@dataclass(frozen=True, slots=True)
class ConstraintVerdict:
    """One constraint checked against one offering, with the numbers in `detail`."""

    name: str  # budget | min_trl | region | languages
    satisfied: bool
    detail: str


@dataclass(frozen=True, slots=True)
class SentencePair:
    need_sentence: str
    technology_sentence: str
    similarity: float


@dataclass(frozen=True, slots=True)
class ScoreComponents:
    """The parts a fused score is made of, each in [0, 1] except the penalty."""

    dense: float
    lexical: float
    taxonomy: float
    sector: float
    constraint_penalty: float


@dataclass(frozen=True, slots=True)
class Explanation:
    summary: str
    sentence_pairs: tuple[SentencePair, ...]
    shared_terms: tuple[str, ...]
    shared_categories: tuple[str, ...]
    need_categories: tuple[str, ...]
    constraints: tuple[ConstraintVerdict, ...]


@dataclass(frozen=True, slots=True)
class Match:
    """A ranked (need, technology) pair. Also used for leads, where the need is the result."""

    need_id: int
    technology_id: int
    rank: int
    score: float
    components: ScoreComponents
    explanation: Explanation | None = None
