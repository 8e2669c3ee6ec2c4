"""The facilitator's forms read into the API's request bodies, with errors worded for a person, not a client.

A problem is said (`Said`) when shown, so the page can say it in its language."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from pydantic import ValidationError

from app.engagements.schemas import EngagementMove, EngagementUpdate, TrainingStatus
from app.models import EngagementStage
from app.pairing.schemas import MAX_ROUNDS, PairIn, PairingPlanCreate, PairingRevisionCreate
from app.web.i18n import N_, Said
from matching.pairing.optimiser import FAIRNESS_MODES

Form = Mapping[str, str]
MAX_TABLES = 100


class FormProblem(ValueError):
    """Input a person can correct: every problem found, in plain words."""

    def __init__(self, problems: list[Said]) -> None:
        super().__init__("; ".join(problem.say() for problem in problems))
        self.problems = problems


def _whole(value: str | None, what: Said, problems: list[Said], *, low: int, high: int) -> int | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        number = int(text)
    except ValueError:
        problems.append(Said(N_("%(what)s must be a whole number, not “%(text)s”."), {"what": what, "text": text[:40]}))
        return None
    if not low <= number <= high:
        problems.append(
            Said(N_("%(what)s must be between %(low)s and %(high)s."), {"what": what, "low": low, "high": high})
        )
        return None
    return number


def _ids(values: list[str], unknown: Said, problems: list[Said]) -> list[int]:
    found: list[int] = []
    for value in values:
        try:
            found.append(int(value))
        except ValueError:
            problems.append(unknown)
    return list(dict.fromkeys(found))


def _messages(exc: ValidationError) -> list[Said]:
    # The schemas' own words (English; said as they are unless the catalogue has them).
    return [Said(str(error["msg"]).removeprefix("Value error, ")) for error in exc.errors()]


def plan_request(
    *,
    fields: Form,
    company_values: list[str],
    provider_values: list[str],
    author: str,
    provider_names: Mapping[int, str],
) -> PairingPlanCreate:
    """A new demo day from the form: the chosen SMEs and providers, capacities, limits and fairness."""
    problems: list[Said] = []
    name = (fields.get("name") or "").strip()
    if not name:
        problems.append(Said(N_("Give the demo day a name.")))
    companies = _ids(company_values, Said(N_("Unknown SME in the form.")), problems)
    providers = _ids(provider_values, Said(N_("Unknown provider in the form.")), problems)
    if not companies:
        problems.append(Said(N_("Pick at least one SME.")))
    if not providers:
        problems.append(Said(N_("Pick at least one technology provider.")))
    rounds = _whole(fields.get("rounds"), Said(N_("Rounds")), problems, low=1, high=MAX_ROUNDS)
    tables = _whole(fields.get("tables"), Said(N_("Tables per provider")), problems, low=1, high=MAX_TABLES) or 1
    most = _whole(fields.get("max_per_company"), Said(N_("Most demos per SME")), problems, low=1, high=MAX_ROUNDS)
    if most is None and not (fields.get("max_per_company") or "").strip():
        problems.append(Said(N_("Say how many demos an SME may have at most.")))
    default = _whole(fields.get("default_capacity"), Said(N_("Slots per provider")), problems, low=0, high=10_000)
    capacities: dict[int, int] = {}
    for provider in providers:
        named = provider_names.get(provider)
        label = Said(N_("Slots of %(provider)s"), {"provider": named}) if named else Said(N_("Slots of a provider"))
        slots = _whole(fields.get(f"capacity-{provider}"), label, problems, low=0, high=10_000)
        if slots is not None:
            capacities[provider] = slots
        elif default is None:
            problems.append(Said(N_("%(slots)s: give a number, or slots for every provider."), {"slots": label}))
    day = _day(fields.get("event_date"), problems)
    minutes = Said(N_("Minutes per demonstration"))
    slot_minutes = _whole(fields.get("slot_minutes"), minutes, problems, low=5, high=240)
    fairness = fields.get("fairness") or "none"
    if fairness not in FAIRNESS_MODES:
        problems.append(Said(N_("Choose one of the fairness options.")))
    if problems:
        raise FormProblem(problems)
    try:
        return PairingPlanCreate(
            name=name,
            event_date=day,
            slot_minutes=slot_minutes,
            company_ids=companies,
            provider_ids=providers,
            capacities=capacities,
            default_capacity=default,
            max_per_company=most or 1,
            rounds=rounds,
            tables={p: tables for p in providers},
            fairness=fairness,
            author=author,
        )
    except ValidationError as exc:
        raise FormProblem(_messages(exc)) from exc


def _pairs(values: list[str], problems: list[Said]) -> list[PairIn]:
    pairs: list[PairIn] = []
    for value in values:
        company, _, provider = value.partition(":")
        try:
            pairs.append(PairIn(company_id=int(company), provider_id=int(provider)))
        except ValueError:
            problems.append(Said(N_("A pair in the form was not understood; reload the plan and try again.")))
    return pairs


def revision_request(*, lock: list[str], remove: list[str], note: str | None, author: str) -> PairingRevisionCreate:
    """Lock and remove pairs, chosen on the plan's grid; a pair both locked and removed is refused."""
    problems: list[Said] = []
    locks, removals = _pairs(lock, problems), _pairs(remove, problems)
    both = {(p.company_id, p.provider_id) for p in locks} & {(p.company_id, p.provider_id) for p in removals}
    if both:
        problems.append(Said(N_("A pair cannot be both locked and removed; untick one of the two.")))
    if not locks and not removals and not problems:
        problems.append(Said(N_("Tick “Lock” or “Remove” on at least one pair before re-optimising.")))
    if problems:
        raise FormProblem(problems)
    try:
        return PairingRevisionCreate(lock=locks, remove=removals, note=(note or "").strip() or None, author=author)
    except ValidationError as exc:
        raise FormProblem(_messages(exc)) from exc


def _version(fields: Form) -> int:
    try:
        return int(fields.get("version") or "")
    except ValueError:
        raise FormProblem([Said(N_("The form had no version; reload the board and try again."))]) from None


def _day(value: str | None, problems: list[Said]) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(Said(N_("“%(text)s” is not a date (YYYY-MM-DD)."), {"text": text[:20]}))
        return None


def move_request(fields: Form) -> EngagementMove:
    problems: list[Said] = []
    stage = fields.get("stage") or ""
    if stage not in EngagementStage.__members__:
        problems.append(Said(N_("Choose the stage to move to.")))
    version = _version(fields)
    next_action = _day(fields.get("next_action_on"), problems)
    if problems:
        raise FormProblem(problems)
    try:
        return EngagementMove(
            stage=EngagementStage(stage),
            expected_version=version,
            reason_code=fields.get("reason_code") or None,
            note=(fields.get("note") or "").strip() or None,
            next_action_on=next_action,
        )
    except ValidationError as exc:
        raise FormProblem(_messages(exc)) from exc


def update_request(fields: Form) -> EngagementUpdate:
    problems: list[Said] = []
    version = _version(fields)
    next_action = _day(fields.get("next_action_on"), problems)
    if problems:
        raise FormProblem(problems)
    values: dict[str, object] = {"expected_version": version, "notes": fields.get("notes") or ""}
    if (fields.get("next_action_on") or "").strip():
        values["next_action_on"] = next_action
    try:
        return EngagementUpdate.model_validate(values)
    except ValidationError as exc:
        raise FormProblem(_messages(exc)) from exc


TRAINING_ROWS_MAX = 50


def training_request(
    fields: Form, *, competences: list[str], statuses: list[str], days: list[str], notes: list[str]
) -> EngagementUpdate:
    """The competence plan from the form's rows (one row per competence; a row without one is left out)."""
    problems: list[Said] = []
    version = _version(fields)
    rows: list[dict[str, str | date | None]] = []
    seen: set[str] = set()
    for position, competence in enumerate(competences):
        name = competence.strip()
        if not name:
            continue
        status = statuses[position] if position < len(statuses) else ""
        if status not in TrainingStatus.__members__:
            problems.append(Said(N_("Choose where the training for “%(name)s” stands."), {"name": name[:40]}))
            continue
        planned_on = _day(days[position] if position < len(days) else "", problems)
        note = (notes[position] if position < len(notes) else "").strip() or None
        if name.casefold() in seen:
            problems.append(Said(N_("“%(name)s” is in the plan twice: keep one row for it."), {"name": name[:40]}))
            continue
        seen.add(name.casefold())
        rows.append({"competence": name, "status": status, "planned_on": planned_on, "note": note})
    if len(rows) > TRAINING_ROWS_MAX:
        problems.append(Said(N_("A plan holds at most %(most)s competences."), {"most": TRAINING_ROWS_MAX}))
    if problems:
        raise FormProblem(problems)
    try:
        return EngagementUpdate.model_validate({"expected_version": version, "training": rows})
    except ValidationError as exc:
        raise FormProblem(_messages(exc)) from exc
