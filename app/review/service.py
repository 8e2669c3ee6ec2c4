"""Curator review: the queue, decisions (approve, approve edited, reject, reopen) and their audit trail."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.core.errors import Conflict, NotFound, ValidationProblem
from app.models import Match, MatchFeedback, MatchStatus, ReviewDecision, utcnow
from app.review.repository import QueueFilters, QueueSort, ReviewRepository
from app.web.i18n import N_, Said
from app.webhooks.service import enqueue_event

logger = logging.getLogger(__name__)

MAX_SUMMARY_CHARS = 2000
MAX_REASON_CHARS = 2000
MAX_BULK = 500
# How far ahead "next" looks in the curator's filtered queue.
NEIGHBOUR_WINDOW = 5000


class Action(enum.StrEnum):
    approve = "approve"
    approve_edited = "approve_edited"
    reject = "reject"
    reopen = "reopen"


class ReasonCode(enum.StrEnum):
    not_relevant = "not_relevant"
    wrong_category = "wrong_category"
    constraint_violation = "constraint_violation"
    duplicate = "duplicate"
    provider_unavailable = "provider_unavailable"
    other = "other"


_TARGET = {
    Action.approve: MatchStatus.approved,
    Action.approve_edited: MatchStatus.approved,
    Action.reject: MatchStatus.rejected,
    Action.reopen: MatchStatus.proposed,
}

# Webhook events, sent in the decision's transaction (the outbox is delivered after commit).
_EVENTS = {MatchStatus.approved: "match.approved", MatchStatus.rejected: "match.rejected"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """Who decides: a signed-in curator or an API key with the review scope."""

    name: str
    kind: str
    tenant: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionRequest:
    action: Action
    reason_code: ReasonCode | None = None
    reason_text: str | None = None
    summary: str | None = None
    # The match's review_version the curator saw; a decision on a changed match is refused.
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class BulkOutcome:
    match_id: int
    done: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Neighbours:
    previous_id: int | None
    next_id: int | None
    position: int | None
    total: int


def _validate(request: DecisionRequest) -> DecisionRequest:
    """Normalises free text and checks that the request carries what its action needs."""
    reason_text = (request.reason_text or "").strip() or None
    summary = (request.summary or "").strip() or None
    if reason_text is not None and len(reason_text) > MAX_REASON_CHARS:
        raise ValidationProblem.field(("reason_text",), f"at most {MAX_REASON_CHARS} characters")
    if request.action is Action.reject:
        if request.reason_code is None:
            raise ValidationProblem.field(("reason_code",), "a rejection needs a reason code")
        if request.reason_code is ReasonCode.other and reason_text is None:
            raise ValidationProblem.field(("reason_text",), "reason 'other' needs an explanation")
    elif request.reason_code is not None and request.action is not Action.reopen:
        raise ValidationProblem.field(("reason_code",), "only a rejection or a reopening takes a reason")
    if request.action is Action.approve_edited:
        if summary is None:
            raise ValidationProblem.field(("summary",), "approving with an edit needs the edited explanation")
        if len(summary) > MAX_SUMMARY_CHARS:
            raise ValidationProblem.field(("summary",), f"at most {MAX_SUMMARY_CHARS} characters")
    elif summary is not None:
        raise ValidationProblem.field(("summary",), "only approve_edited takes an edited explanation")
    return DecisionRequest(
        action=request.action,
        reason_code=request.reason_code,
        reason_text=reason_text,
        summary=summary,
        expected_version=request.expected_version,
    )


def snapshot(match: Match) -> dict[str, Any]:
    """The reviewable state of a match, as stored in a decision's before and after."""
    return {
        "status": str(match.status),
        "summary": (match.explanation or {}).get("summary"),
        "explanation_edited": match.explanation_edited,
        "review_version": match.review_version,
        "score": match.score,
    }


def _refusal(match: Match, action: Action) -> str | None:
    """Why `action` cannot apply to the match as it is now, or None."""
    if action is Action.reopen and match.status is MatchStatus.proposed:
        return N_("the match is not decided; nothing to reopen")
    if action is Action.approve and match.status is MatchStatus.approved:
        return N_("the match is already approved")
    if action is Action.reject and match.status is MatchStatus.rejected:
        return N_("the match is already rejected")
    return None


def get_match(session: Session, *, tenant: str, match_id: int) -> Match:
    match = ReviewRepository(session).match(match_id, tenant=tenant)
    if match is None:
        raise NotFound.saying(N_("no match %(id)s"), id=match_id)
    return match


class Party(enum.StrEnum):
    sme = "sme"
    provider = "provider"


class Verdict(enum.StrEnum):
    """What the SME or the provider answered to a released match."""

    introduction = "introduction"  # the SME asked to be introduced: positive feedback
    not_relevant = "not_relevant"  # the SME found it does not fit: negative feedback
    interested = "interested"  # the provider wants the lead
    not_for_us = "not_for_us"  # the provider declines the lead (says nothing about the SME's fit)


VERDICTS: dict[Party, frozenset[Verdict]] = {
    Party.sme: frozenset({Verdict.introduction, Verdict.not_relevant}),
    Party.provider: frozenset({Verdict.interested, Verdict.not_for_us}),
}


def record_feedback(
    session: Session, *, tenant: str, actor: str, party: Party, verdict: Verdict, match: Match
) -> MatchFeedback:
    """Appends an SME's or provider's answer to a match; the caller has checked it may answer this match."""
    if verdict not in VERDICTS[party]:
        raise ValidationProblem.field(("body", "verdict"), f"{party} cannot answer {verdict}")
    if match.status is not MatchStatus.approved:
        raise Conflict.saying(
            N_("match %(id)s is %(status)s; only a released match is answered"), id=match.id, status=Said(match.status)
        )
    return ReviewRepository(session).add_feedback(
        MatchFeedback(
            tenant=tenant,
            match_id=match.id,
            need_id=match.need_id,
            technology_id=match.technology_id,
            party=party,
            verdict=verdict,
            actor=actor,
        )
    )


def forget_feedback(session: Session, *, need_id: int) -> None:
    """Deletes the answers to a need's matches when the need goes: they name people, and nothing could
    reach them once the need's id is gone (a later erasure of the company finds answers by its needs)."""
    ReviewRepository(session).delete_feedback_of_need(need_id)


def feedback_of(session: Session, match_ids: list[int]) -> dict[int, dict[str, MatchFeedback]]:
    """Match id -> party ("sme", "provider") -> that party's newest answer."""
    return ReviewRepository(session).feedback(match_ids)


def decide(session: Session, *, actor: Actor, match_id: int, request: DecisionRequest) -> ReviewDecision:
    """Applies one decision and appends its audit record, in the caller's transaction."""
    request = _validate(request)
    match = get_match(session, tenant=actor.tenant, match_id=match_id)
    return _apply(session, actor=actor, match=match, request=request)


def _apply(session: Session, *, actor: Actor, match: Match, request: DecisionRequest) -> ReviewDecision:
    repository = ReviewRepository(session)
    version = match.review_version
    if request.expected_version is not None and request.expected_version != version:
        raise Conflict.saying(
            N_("match %(id)s changed since it was shown (version %(shown)s, now %(now)s); reload it and decide again"),
            id=match.id,
            shown=request.expected_version,
            now=version,
        )
    refusal = _refusal(match, request.action)
    if refusal is not None:
        raise Conflict.saying(N_("match %(id)s: %(refusal)s"), id=match.id, refusal=Said(refusal))
    before = snapshot(match)
    values: dict[str, Any] = {
        "status": _TARGET[request.action],
        "reviewed_by": actor.name,
        "reviewed_at": utcnow(),
    }
    if request.action is Action.approve_edited:
        # A new dict: the original summary stays in the audit record's `before`.
        values["explanation"] = {**(match.explanation or {}), "summary": request.summary}
        values["explanation_edited"] = True
    if not repository.compare_and_set(match, version=version, values=values):
        raise Conflict.saying(
            N_("match %(id)s was decided by someone else meanwhile; reload it and decide again"), id=match.id
        )
    decision = repository.add_decision(
        ReviewDecision(
            tenant=actor.tenant,
            match_id=match.id,
            need_id=match.need_id,
            technology_id=match.technology_id,
            actor=actor.name,
            actor_kind=actor.kind,
            action=str(request.action),
            reason_code=None if request.reason_code is None else str(request.reason_code),
            reason_text=request.reason_text,
            before=before,
            after=snapshot(match),
        )
    )
    _notify(session, actor=actor, match=match, decision=decision)
    logger.info("match %d: %s by %s %s", match.id, request.action, actor.kind, actor.name)
    return decision


def _notify(session: Session, *, actor: Actor, match: Match, decision: ReviewDecision) -> None:
    event_name = _EVENTS.get(match.status)
    if event_name is None:
        return
    enqueue_event(
        session,
        tenant=actor.tenant,
        event=event_name,
        payload={
            "match_id": match.id,
            "need_id": match.need_id,
            "technology_id": match.technology_id,
            "status": str(match.status),
            "score": match.score,
            "summary": (match.explanation or {}).get("summary"),
            "reason_code": decision.reason_code,
            "decided_by": decision.actor,
            "decided_at": decision.at.isoformat(),
        },
    )


def decide_many(session: Session, *, actor: Actor, match_ids: list[int], request: DecisionRequest) -> list[BulkOutcome]:
    """One decision for many matches; a match whose state refuses it is skipped and reported."""
    if not match_ids:
        raise ValidationProblem.field(("match_ids",), "select at least one match")
    if len(match_ids) > MAX_BULK:
        raise ValidationProblem.field(("match_ids",), f"at most {MAX_BULK} matches at once")
    if request.action not in (Action.approve, Action.reject):
        raise ValidationProblem.field(("action",), "bulk decisions are approve or reject")
    request = _validate(request)
    unique = list(dict.fromkeys(match_ids))
    found = ReviewRepository(session).matches(unique, tenant=actor.tenant)
    missing = [i for i in unique if i not in found]
    if missing:
        raise NotFound(f"no match {', '.join(map(str, missing))}")
    outcomes = []
    for match_id in unique:
        match = found[match_id]
        refusal = _refusal(match, request.action)
        if refusal is not None:
            outcomes.append(BulkOutcome(match_id, False, refusal))
            continue
        _apply(session, actor=actor, match=match, request=request)
        outcomes.append(BulkOutcome(match_id, True, str(match.status)))
    return outcomes


def history(session: Session, *, tenant: str, match_id: int) -> list[ReviewDecision]:
    get_match(session, tenant=tenant, match_id=match_id)
    return ReviewRepository(session).history(match_id)


def queue(
    session: Session, *, tenant: str, filters: QueueFilters, sort: QueueSort, limit: int, offset: int
) -> tuple[list[Match], int]:
    if filters.min_score is not None and filters.max_score is not None and filters.min_score > filters.max_score:
        raise ValidationProblem.field(("query", "min_score"), "min_score is above max_score")
    return ReviewRepository(session).queue(tenant=tenant, filters=filters, sort=sort, limit=limit, offset=offset)


def neighbours(session: Session, *, tenant: str, match_id: int, filters: QueueFilters, sort: QueueSort) -> Neighbours:
    """The matches before and after this one in the curator's filtered queue (for j/k and "next")."""
    ids = ReviewRepository(session).queue_ids(tenant=tenant, filters=filters, sort=sort, limit=NEIGHBOUR_WINDOW)
    if match_id not in ids:
        return Neighbours(None, ids[0] if ids else None, None, len(ids))
    at = ids.index(match_id)
    return Neighbours(
        ids[at - 1] if at > 0 else None,
        ids[at + 1] if at + 1 < len(ids) else None,
        at + 1,
        len(ids),
    )


@dataclass(frozen=True, slots=True)
class NamedDecision:
    """A decision with the titles of its need and technology (None once that row was deleted)."""

    decision: ReviewDecision
    need_title: str | None
    technology_title: str | None


def recent_decisions(
    session: Session, *, tenant: str, limit: int, offset: int = 0, before: int | None = None
) -> tuple[list[NamedDecision], int]:
    """The tenant's decisions newest first, with what they were about by name; and how many there are."""
    repository = ReviewRepository(session)
    rows, total = repository.recent_decisions(tenant=tenant, limit=limit, offset=offset, before=before)
    needs, technologies = repository.titles(rows)
    return [NamedDecision(row, needs.get(row.need_id), technologies.get(row.technology_id)) for row in rows], total


# The audit trail is append-only: the ORM refuses to change or delete a decision.
@event.listens_for(ReviewDecision, "before_update")
@event.listens_for(ReviewDecision, "before_delete")
def _append_only(_mapper: object, _connection: object, target: ReviewDecision) -> None:
    raise PermissionError(f"review decision {target.id} is append-only")
