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
    # What its users must be able to do (skills, roles, training); explained, never scored.
    competences: tuple[str, ...] = ()


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
    # What the SME's people can already do (its company's skills); set against an offering's competences.
    skills: tuple[str, ...] = ()


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
    """What a score is made of.

    The pair's features: `dense` (cosine of the two texts), `sentence` (best cosine of the query and one
    sentence of the other party's own text), `lexical` (share of the query's BM25
    weight covered), `taxonomy` (the need's affinity to the offering's best category), `sector`
    (1 when the offering has references in the SME's sector). `contributions` maps each part to what
    it adds to the log-odds of the score, the calibration's "intercept" included: they sum to
    `log_odds`, and the score is the probability sigmoid(log_odds). `constraint_penalty` is what
    violated constraints take off the log-odds (0 when every stated constraint is met).
    """

    dense: float
    lexical: float
    taxonomy: float
    sector: float
    constraint_penalty: float
    sentence: float = 0.0
    log_odds: float = 0.0
    contributions: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a pair was proposed, for the reader of `language` (the SME's for a match, English for a lead).

    `strength` is the word for the score (strong, good, possible, weak); `sentence_pairs` quote only
    the two parties' own descriptions; categories and constraints are metadata, never quotes.
    """

    summary: str
    sentence_pairs: tuple[SentencePair, ...]
    shared_terms: tuple[str, ...]
    shared_categories: tuple[str, ...]
    need_categories: tuple[str, ...]
    constraints: tuple[ConstraintVerdict, ...]
    strength: str = ""
    language: str = "en"
    # The offering's stated competences, and those of them the SME does not list among its skills.
    competences: tuple[str, ...] = ()
    competence_gap: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Match:
    """A ranked (need, technology) pair. Also used for leads, where the need is the result."""

    need_id: int
    technology_id: int
    rank: int
    score: float
    components: ScoreComponents
    explanation: Explanation | None = None
