"""The catalogue version: one row, bumped in the writer's transaction, stamped on saved indexes."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.models import (
    CatalogueState,
)


class CatalogueStateRepository:
    _ROW_ID = 1

    def __init__(self, session: Session) -> None:
        self.session = session

    def version(self) -> int:
        state = self.session.get(CatalogueState, self._ROW_ID)
        return state.version if state is not None else 0

    def bump(self) -> int:
        """Increments the version in the caller's transaction; an UPDATE, so writers do not race."""
        result = self.session.execute(
            update(CatalogueState).where(CatalogueState.id == self._ROW_ID).values(version=CatalogueState.version + 1)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            self.session.add(CatalogueState(id=self._ROW_ID, version=1))
            self.session.flush()
        # The UPDATE bypassed the identity map; read the row back as it is now.
        state = self.session.get(CatalogueState, self._ROW_ID, populate_existing=True)
        assert state is not None
        return state.version
