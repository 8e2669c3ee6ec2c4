"""The facilitator's forms read into the API's request bodies, with errors worded for a person, not a client."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from pydantic import ValidationError

from app.engagements.schemas import EngagementMove, EngagementUpdate, TrainingStatus
from app.models import EngagementStage
from app.pairing.schemas import MAX_ROUNDS, PairIn, PairingPlanCreate, PairingRevisionCreate
from matching.pairing.optimiser import FAIRNESS_MODES

Form = Mapping[str, str]
MAX_TABLES = 100


class FormProblem(ValueError):
    """Input a person can correct: every problem found, in plain words."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _whole(value: str | None, what: str, problems: list[str], *, low: int, high: int) -> int | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        number = int(text)
    except ValueError:
        problems.append(f"{what} must be a whole number, not “{text[:40]}”.")
        return None
    if not low <= number <= high:
        problems.append(f"{what} must be between {low} and {high}.")
        return None
    return number


def _ids(values: list[str], what: str, problems: list[str]) -> list[int]:
    found: list[int] = []
    for value in values:
        try:
            found.append(int(value))
        except ValueError:
            problems.append(f"Unknown {what} in the form.")
    return list(dict.fromkeys(found))


def _messages(exc: ValidationError) -> list[str]:
    return [str(error["msg"]).removeprefix("Value error, ") for error in exc.errors()]


def plan_request(
    *,
    fields: Form,
    company_values: list[str],
    provider_values: list[str],
    author: str,
    provider_names: Mapping[int, str],
) -> PairingPlanCreate:
    """A new demo day from the form: the chosen SMEs and providers, capacities, limits and fairness."""
    problems: list[str] = []
    name = (fields.get("name") or "").strip()
    if not name:
        problems.append("Give the demo day a name.")
    companies = _ids(company_values, "SME", problems)
    providers = _ids(provider_values, "provider", problems)
    if not companies:
        problems.append("Pick at least one SME.")
    if not providers:
        problems.append("Pick at least one technology provider.")
    rounds = _whole(fields.get("rounds"), "Rounds", problems, low=1, high=MAX_ROUNDS)
    tables = _whole(fields.get("tables"), "Tables per provider", problems, low=1, high=MAX_TABLES) or 1
    most = _whole(fields.get("max_per_company"), "Most demos per SME", problems, low=1, high=MAX_ROUNDS)
    if most is None and not (fields.get("max_per_company") or "").strip():
        problems.append("Say how many demos an SME may have at most.")
    default = _whole(fields.get("default_capacity"), "Slots per provider", problems, low=0, high=10_000)
    capacities: dict[int, int] = {}
    for provider in providers:
        label = f"Slots of {provider_names.get(provider, 'a provider')}"
        slots = _whole(fields.get(f"capacity-{provider}"), label, problems, low=0, high=10_000)
        if slots is not None:
            capacities[provider] = slots
        elif default is None:
            problems.append(f"{label}: give a number, or slots for every provider.")
    day = _day(fields.get("event_date"), problems)
    slot_minutes = _whole(fields.get("slot_minutes"), "Minutes per demonstration", problems, low=5, high=240)
    fairness = fields.get("fairness") or "none"
    if fairness not in FAIRNESS_MODES:
        problems.append("Choose one of the fairness options.")
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


def _pairs(values: list[str], problems: list[str]) -> list[PairIn]:
    pairs: list[PairIn] = []
    for value in values:
        company, _, provider = value.partition(":")
        try:
            pairs.append(PairIn(company_id=int(company), provider_id=int(provider)))
        except ValueError:
            problems.append("A pair in the form was not understood; reload the plan and try again.")
    return pairs


def revision_request(*, lock: list[str], remove: list[str], note: str | None, author: str) -> PairingRevisionCreate:
    """Lock and remove pairs, chosen on the plan's grid; a pair both locked and removed is refused."""
    problems: list[str] = []
    locks, removals = _pairs(lock, problems), _pairs(remove, problems)
    both = {(p.company_id, p.provider_id) for p in locks} & {(p.company_id, p.provider_id) for p in removals}
    if both:
        problems.append("A pair cannot be both locked and removed; untick one of the two.")
    if not locks and not removals and not problems:
        problems.append("Tick “Lock” or “Remove” on at least one pair before re-optimising.")
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
        raise FormProblem(["The form had no version; reload the board and try again."]) from None


def _day(value: str | None, problems: list[str]) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"“{text[:20]}” is not a date (YYYY-MM-DD).")
        return None


def move_request(fields: Form) -> EngagementMove:
    problems: list[str] = []
    stage = fields.get("stage") or ""
    if stage not in EngagementStage.__members__:
        problems.append("Choose the stage to move to.")
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
    problems: list[str] = []
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
    problems: list[str] = []
    version = _version(fields)
    rows: list[dict[str, str | date | None]] = []
    seen: set[str] = set()
    for position, competence in enumerate(competences):
        name = competence.strip()
        if not name:
            continue
        status = statuses[position] if position < len(statuses) else ""
        if status not in TrainingStatus.__members__:
            problems.append(f"Choose where the training for “{name[:40]}” stands.")
            continue
        planned_on = _day(days[position] if position < len(days) else "", problems)
        note = (notes[position] if position < len(notes) else "").strip() or None
        if name.casefold() in seen:
            problems.append(f"“{name[:40]}” is in the plan twice: keep one row for it.")
            continue
        seen.add(name.casefold())
        rows.append({"competence": name, "status": status, "planned_on": planned_on, "note": note})
    if len(rows) > TRAINING_ROWS_MAX:
        problems.append(f"A plan holds at most {TRAINING_ROWS_MAX} competences.")
    if problems:
        raise FormProblem(problems)
    try:
        return EngagementUpdate.model_validate({"expected_version": version, "training": rows})
    except ValidationError as exc:
        raise FormProblem(_messages(exc)) from exc
