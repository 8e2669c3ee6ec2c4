"""Queries of the review workflow: the queue with its filters and sorting, decisions, history."""

from __future__ import annotations

import enum
import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, String, UnaryExpression, cast, delete, func, select, update
from sqlalchemy.orm import Session

from app.models import Company, Match, MatchFeedback, MatchStatus, Need, Provider, ReviewDecision, Technology


class QueueSort(enum.StrEnum):
    score_desc = "score_desc"
    score_asc = "score_asc"
    newest = "newest"
    oldest = "oldest"
    need = "need"
    company = "company"


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueFilters:
    status: MatchStatus | None = MatchStatus.proposed
    company_id: int | None = None
    provider_id: int | None = None
    need_id: int | None = None
    category: str | None = None
    min_score: float | None = None
    max_score: float | None = None


class ReviewRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _queue_query(self, *, tenant: str, filters: QueueFilters) -> Select[Match]:
        query = (
            select(Match)
            .join(Need, Need.id == Match.need_id)
            .join(Technology, Technology.id == Match.technology_id)
            .where(Need.tenant == tenant)
        )
        if filters.status is not None:
            query = query.where(Match.status == filters.status)
        if filters.company_id is not None:
            query = query.where(Need.company_id == filters.company_id)
        if filters.provider_id is not None:
            query = query.where(Technology.provider_id == filters.provider_id)
        if filters.need_id is not None:
            query = query.where(Match.need_id == filters.need_id)
        if filters.category:
            # Categories are a JSON list; its text form holds each slug quoted, on SQLite and PostgreSQL.
            query = query.where(cast(Technology.categories, String).like(f"%{json.dumps(filters.category)}%"))
        if filters.min_score is not None:
            query = query.where(Match.score >= filters.min_score)
        if filters.max_score is not None:
            query = query.where(Match.score <= filters.max_score)
        return query

    @staticmethod
    def _ordered(query: Select[Match], sort: QueueSort) -> Select[Match]:
        if sort is QueueSort.company:
            query = query.join(Company, Company.id == Need.company_id)
        orders: dict[QueueSort, tuple[UnaryExpression[Any], ...]] = {
            QueueSort.score_desc: (Match.score.desc(),),
            QueueSort.score_asc: (Match.score.asc(),),
            QueueSort.newest: (Match.created_at.desc(),),
            QueueSort.oldest: (Match.created_at.asc(),),
            QueueSort.need: (Match.need_id.asc(), Match.rank.asc()),
            QueueSort.company: (Company.name.asc(), Match.need_id.asc(), Match.rank.asc()),
        }
        # The id breaks ties, so paging and "next" never skip or repeat a match.
        return query.order_by(*orders[sort], Match.id.asc())

    def queue(
        self, *, tenant: str, filters: QueueFilters, sort: QueueSort, limit: int, offset: int
    ) -> tuple[list[Match], int]:
        query = self._queue_query(tenant=tenant, filters=filters)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(self._ordered(query, sort).limit(limit).offset(offset)).unique().all()
        return list(rows), total

    def queue_ids(self, *, tenant: str, filters: QueueFilters, sort: QueueSort, limit: int) -> list[int]:
        query = self._ordered(self._queue_query(tenant=tenant, filters=filters), sort)
        return list(self.session.scalars(query.with_only_columns(Match.id).limit(limit)))

    def status_counts(self, *, tenant: str) -> dict[MatchStatus, int]:
        query = (
            select(Match.status, func.count())
            .join(Need, Need.id == Match.need_id)
            .where(Need.tenant == tenant)
            .group_by(Match.status)
        )
        counts = {status: 0 for status in MatchStatus}
        counts.update({MatchStatus(status): n for status, n in self.session.execute(query)})
        return counts

    def match(self, match_id: int, *, tenant: str) -> Match | None:
        query = select(Match).join(Need, Need.id == Match.need_id).where(Match.id == match_id, Need.tenant == tenant)
        return self.session.scalars(query).first()

    def matches(self, match_ids: Collection[int], *, tenant: str) -> dict[int, Match]:
        query = (
            select(Match)
            .join(Need, Need.id == Match.need_id)
            .where(Match.id.in_(list(match_ids)), Need.tenant == tenant)
        )
        return {row.id: row for row in self.session.scalars(query)}

    def need_matches(self, need_id: int) -> list[Match]:
        query = select(Match).where(Match.need_id == need_id).order_by(Match.score.desc(), Match.id)
        return list(self.session.scalars(query))

    def compare_and_set(self, match: Match, *, version: int, values: dict[str, object]) -> bool:
        """Writes `values` only if no other decision changed the match since it was read."""
        result = self.session.execute(
            update(Match)
            .where(Match.id == match.id, Match.review_version == version)
            .values(review_version=version + 1, **values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        self.session.refresh(match)
        return True

    def add_decision(self, decision: ReviewDecision) -> ReviewDecision:
        self.session.add(decision)
        self.session.flush()
        return decision

    def add_feedback(self, feedback: MatchFeedback) -> MatchFeedback:
        self.session.add(feedback)
        self.session.flush()
        return feedback

    def delete_feedback_of_need(self, need_id: int) -> None:
        self.session.execute(delete(MatchFeedback).where(MatchFeedback.need_id == need_id))

    def feedback(self, match_ids: Collection[int]) -> dict[int, dict[str, MatchFeedback]]:
        """Match id -> party -> that party's newest answer."""
        if not match_ids:
            return {}
        query = (
            select(MatchFeedback)
            .where(MatchFeedback.match_id.in_(list(match_ids)))
            .order_by(MatchFeedback.at, MatchFeedback.id)
        )
        out: dict[int, dict[str, MatchFeedback]] = {}
        for row in self.session.scalars(query):
            out.setdefault(row.match_id, {})[row.party] = row
        return out

    def history(self, match_id: int) -> list[ReviewDecision]:
        query = (
            select(ReviewDecision)
            .where(ReviewDecision.match_id == match_id)
            .order_by(ReviewDecision.at, ReviewDecision.id)
        )
        return list(self.session.scalars(query))

    def recent_decisions(
        self, *, tenant: str, limit: int, offset: int = 0, before: int | None = None
    ) -> tuple[list[ReviewDecision], int]:
        """The tenant's decisions newest first (by id, the order they were taken in), from `offset` or
        older than the id `before` (a cursor); and how many the tenant has."""
        conditions = [ReviewDecision.tenant == tenant]
        total = self.session.scalar(select(func.count()).select_from(ReviewDecision).where(*conditions)) or 0
        if before is not None:
            conditions.append(ReviewDecision.id < before)
        query = select(ReviewDecision).where(*conditions).order_by(ReviewDecision.id.desc()).limit(limit)
        if before is None:
            query = query.offset(offset)
        return list(self.session.scalars(query)), total

    def titles(self, decisions: list[ReviewDecision]) -> tuple[dict[int, str], dict[int, str]]:
        """Need id -> title and technology id -> title for the decisions (rows since deleted are absent)."""
        need_ids = {d.need_id for d in decisions}
        technology_ids = {d.technology_id for d in decisions}
        needs = {i: t for i, t in self.session.execute(select(Need.id, Need.title).where(Need.id.in_(need_ids)))}
        query = select(Technology.id, Technology.title).where(Technology.id.in_(technology_ids))
        technologies = {i: t for i, t in self.session.execute(query)}
        return needs, technologies

    def companies(self, *, tenant: str) -> list[Company]:
        return list(self.session.scalars(select(Company).where(Company.tenant == tenant).order_by(Company.name)))

    def providers(self, *, tenant: str) -> list[Provider]:
        """The providers of the tenant's proposed and decided matches: what its queue can be filtered by."""
        query = select(Provider).where(
            Provider.id.in_(self._matched_technologies(tenant).with_only_columns(Technology.provider_id))
        )
        return list(self.session.scalars(query.order_by(Provider.name)))

    def categories(self, *, tenant: str) -> list[str]:
        found: set[str] = set()
        for categories in self.session.scalars(
            self._matched_technologies(tenant).with_only_columns(Technology.categories)
        ):
            found.update(categories or ())
        return sorted(found)

    @staticmethod
    def _matched_technologies(tenant: str) -> Select[Technology]:
        matched = select(Match.technology_id).join(Need, Need.id == Match.need_id).where(Need.tenant == tenant)
        return select(Technology).where(Technology.id.in_(matched))
