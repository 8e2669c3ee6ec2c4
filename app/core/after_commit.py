"""Index changes deferred until the database transaction that caused them has committed."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

_PENDING = "techmatch.after_commit"


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Runs `action` once `session` commits, and never if it rolls back.

    The index must only ever hold what the database holds, so a failed commit leaves it untouched.
    """
    if not session.in_transaction():
        # Rollback events only fire for a begun transaction; begin one so they do.
        session.begin()
    session.info.setdefault(_PENDING, []).append(action)


@event.listens_for(Session, "after_commit")
def _run_pending(session: Session) -> None:
    for action in session.info.pop(_PENDING, []):
        action()


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, _previous_transaction: object) -> None:
    session.info.pop(_PENDING, None)
