"""Queries of widget submissions: a tenant's, newest first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.widget import WidgetSubmission


class WidgetSubmissionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, submission: WidgetSubmission) -> WidgetSubmission:
        self.session.add(submission)
        self.session.flush()
        return submission

    def latest(self, *, tenant: str, limit: int = 200) -> list[WidgetSubmission]:
        query = (
            select(WidgetSubmission)
            .where(WidgetSubmission.tenant == tenant)
            .order_by(WidgetSubmission.created_at.desc(), WidgetSubmission.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(query).all())

    def get(self, submission_id: int, *, tenant: str) -> WidgetSubmission | None:
        submission = self.session.get(WidgetSubmission, submission_id)
        return submission if submission is not None and submission.tenant == tenant else None
