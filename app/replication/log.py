"""The change log's writing side: a write bumps the catalogue version and logs what it touched, in its transaction."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.after_commit import after_commit
from app.indexing.state import CatalogueStateRepository
from app.models import ChangeKind
from app.replication.repository import ChangeLogRepository

# The PostgreSQL channel a writer notifies in its transaction (delivered at commit).
CHANNEL = "techmatch_changes"
# Where a session finds its process's follower (the app's session factory puts it there).
FOLLOWER_KEY = "techmatch.follower"
# A change touching more ids than this is logged as a resync: every process rebuilds from the database.
MAX_LISTED_IDS = 20_000


class _Follows(Protocol):
    def after_write(self, version: int, apply_here: Callable[[], None] | None) -> None: ...


def record_change(
    session: Session,
    *,
    kind: ChangeKind = ChangeKind.catalogue,
    technologies: Collection[int] = (),
    needs: Collection[int] = (),
    apply_here: Callable[[], None] | None = None,
) -> int:
    """Bump the catalogue version and log what changed, in the caller's transaction; returns the version.

    Call it last in the transaction, once the touched rows and their vectors are written: the version
    row stays locked until commit, so every other writer waits from here on. After the commit the
    process that wrote brings its index up to date before answering: through its follower where it has
    one (a serving process), else by running `apply_here` (a command with an index of its own).
    """
    technology_ids = sorted(set(technologies))
    need_ids = sorted(set(needs))
    if kind is ChangeKind.catalogue and len(technology_ids) + len(need_ids) > MAX_LISTED_IDS:
        kind, technology_ids, need_ids = ChangeKind.resync, [], []
    version = CatalogueStateRepository(session).bump()
    ChangeLogRepository(session).append(version=version, kind=kind, technology_ids=technology_ids, need_ids=need_ids)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_notify(CHANNEL, str(version))))
    follower: _Follows | None = session.info.get(FOLLOWER_KEY)
    if follower is not None:
        # A plain catalogue change can be applied from what this transaction wrote, if it is the next one.
        direct = apply_here if kind is ChangeKind.catalogue else None
        after_commit(session, lambda: follower.after_write(version, direct))
    elif apply_here is not None:
        after_commit(session, apply_here)
    return version
