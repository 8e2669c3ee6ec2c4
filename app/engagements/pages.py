"""Members report their own steps: an SME's or a provider's member moves its engagement forward (met,
demonstrated, pilot, adopted) or says it ended (declined, with a reason), from its home page. The rules
are the facilitator's (app/engagements/service.py): forward only, ended ones only a facilitator reopens,
a stale version is refused; each step lands in the engagement's history under the member's name."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.core.deps import SessionDep
from app.core.errors import AppError, Conflict, ValidationProblem
from app.engagements import service as engagements
from app.engagements.schemas import DeclineReason, EngagementMove, EngagementRead
from app.models import EngagementStage, Person, Role
from app.web.i18n import N_
from app.web.rendering import flash, render, say_problem, translate
from app.web.security import CsrfDep, require_roles

router = APIRouter(prefix="/engagements", include_in_schema=False)

MemberDep = Annotated[Person, Depends(require_roles(Role.sme, Role.provider))]
EngagementId = Annotated[int, Path(ge=1, le=2**31 - 1)]

STAGE_LABELS: dict[EngagementStage, str] = {
    EngagementStage.introduced: N_("Introduced"),
    EngagementStage.met: N_("We have met"),
    EngagementStage.demonstrated: N_("The technology was demonstrated"),
    EngagementStage.pilot: N_("A pilot is running"),
    EngagementStage.adopted: N_("The technology is in use"),
    EngagementStage.declined: N_("Ended without going further"),
}
# The reasons a member may give when it ends; the facilitator's list has the same codes.
DECLINE_REASONS: dict[DeclineReason, str] = {
    DeclineReason.not_relevant: N_("It does not solve the need"),
    DeclineReason.technology_not_ready: N_("The technology is not mature enough"),
    DeclineReason.too_expensive: N_("Too expensive"),
    DeclineReason.competence_gap: N_("The SME's people lack the skills to use it"),
    DeclineReason.no_capacity: N_("No time or people for it now"),
    DeclineReason.chose_other: N_("Another solution was chosen"),
    DeclineReason.provider_unavailable: N_("The provider could not deliver"),
    DeclineReason.other: N_("Other (say why in the note)"),
}
assert set(DECLINE_REASONS) == set(DeclineReason)
STEP_SAVED = N_("Your step is saved: the cluster's facilitators see it.")
STEP_NEEDS_REASON = N_("Choose why it ended (and say why in the note for 'Other').")
STEP_REFUSED = N_(
    "This step could not be saved: the engagement changed meanwhile or has ended. "
    "Look at it again and report once more."
)
STEP_UNREADABLE = N_("Choose a step from the list.")


# The page each kind of member reports its steps from (its engagements are listed there).
STEPS_PAGE = {"sme": "/sme", "provider": "/provider/leads"}


def member_context(session: Session, person: Person) -> dict[str, object]:
    """What the member's page needs to list its engagements with the steps it may report."""
    actor = engagements.member(person)
    items: list[EngagementRead] = engagements.of_member(session, actor)
    return {
        "engagements": items,
        "next_steps": {e.id: engagements.next_steps(e.stage) for e in items},
        "stage_labels": STAGE_LABELS,
        "decline_reasons": DECLINE_REASONS,
        "side": actor.kind,
    }


@router.post("/{engagement_id}/steps")
def report_step(
    engagement_id: EngagementId,
    request: Request,
    _csrf: CsrfDep,
    person: MemberDep,
    session: SessionDep,
    stage: Annotated[str, Form(max_length=20)] = "",
    version: Annotated[int, Form(ge=0, le=2**31 - 1)] = 0,
    reason_code: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    actor = engagements.member(person)
    back = RedirectResponse(STEPS_PAGE[actor.kind], status_code=303)
    try:
        data = EngagementMove(
            stage=EngagementStage(stage),
            expected_version=version,
            reason_code=(reason_code or None) if stage == EngagementStage.declined else None,
            note=note.strip() or None,
        )
    except (ValueError, ValidationError):
        flash(request, "error", translate(request, STEP_UNREADABLE))
        return back
    try:
        engagements.move(session, actor=actor, engagement_id=engagement_id, data=data)
    except ValidationProblem:
        session.rollback()
        flash(request, "error", translate(request, STEP_NEEDS_REASON))
        return back
    except Conflict:
        session.rollback()
        flash(request, "error", translate(request, STEP_REFUSED))
        return back
    except AppError as exc:  # another company's or provider's engagement: the same 404 as a missing one
        session.rollback()
        return render(request, "error.html", {"message": say_problem(request, exc)}, status_code=exc.status)
    flash(request, "ok", translate(request, STEP_SAVED))
    return back
