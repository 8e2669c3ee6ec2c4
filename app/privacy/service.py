"""Erasure and access for a company (GDPR): delete everything stored about it, or hand all of it over."""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.catalogue.records import need_record, technology_record
from app.catalogue.repository import NeedRepository
from app.catalogue.schemas import CompanyRead, NeedRead
from app.catalogue.service import get_company
from app.matches.service import _stored_match_read
from app.models import ChangeKind, PairingPlan, utcnow
from app.privacy.repository import PrivacyRepository
from app.privacy.schemas import CachedVector, CompanyExport, PlanAssignment, PlanPlacement
from app.replication.log import record_change
from app.review.schemas import DecisionRead
from app.webhooks.schemas import DeliveryRead
from matching.matcher import Matcher
from matching.retrieval.texts import need_text, technology_text, text_hash

logger = logging.getLogger(__name__)

# JSON lists of [company_id, provider_id] pairs on a plan revision.
_PAIR_LISTS = ("locked", "removed", "must_pairs", "never_pairs", "added", "dropped", "unscheduled")


def erase_company(
    session: Session, *, matcher: Matcher, company_id: int, tenant: str, index_dir: Path
) -> dict[str, int]:
    """Deletes the company, its needs, their matches, decisions, engagements, webhook deliveries and vectors,
    its members' accounts and its invitations.

    Plans keep their history without the company. The erasure is logged with the need ids: after
    commit the needs leave the in-memory index of every process and each rewrites its saved index
    files, so no copy of the company's vectors stays in memory or on disk.
    Returns how many rows of each kind went.
    """
    company = get_company(session, company_id=company_id, tenant=tenant)
    repository = PrivacyRepository(session)
    needs = NeedRepository(session).of_company(company.id)
    need_ids = [need.id for need in needs]
    hashes = {text_hash(need_text(need_record(need))) for need in needs}
    titles = {need.title for need in needs}

    decisions = repository.decisions_of(need_ids)
    deliveries = repository.deliveries_of(tenant=company.tenant, company_id=company.id, need_ids=need_ids)
    matches = repository.matches_of(need_ids)
    plans = repository.plans_with(company.id)
    engagements = repository.engagements_of(company.id, tenant=company.tenant)
    events = repository.engagement_events_of(company.id, tenant=company.tenant)
    for plan in plans:
        _drop_from_plan(plan, company.id)
    repository.delete_engagements_of(company.id, tenant=company.tenant)
    repository.delete_decisions([decision.id for decision in decisions])
    feedback = repository.delete_feedback_of(need_ids)
    repository.delete_deliveries([delivery.id for delivery in deliveries])
    repository.delete_matches_of(need_ids)
    repository.delete_rows(needs)
    # Its members' accounts (and their sessions) and its open invitations go too; the foreign keys would
    # cascade, deleting them here counts them.
    members = repository.people_of(company.id)
    invitations = repository.invitations_of(company.id)
    repository.delete_rows(invitations)
    repository.delete_rows(members)
    repository.delete_rows([company])

    # A vector may be shared with a row that stays (the same text elsewhere): keep those.
    still_used = {text_hash(need_text(need_record(n))) for n in repository.needs_titled(titles, excluding=need_ids)}
    still_used |= {text_hash(technology_text(technology_record(t))) for t in repository.technologies_titled(titles)}
    embeddings = repository.embeddings(hashes - still_used)
    repository.delete_rows(embeddings)

    def forget() -> None:
        # A process without a follower (a command): its own index and saved files. Serving processes
        # apply the logged erasure instead, each rewriting its saved index (app/replication/service.py).
        matcher.forget_needs(need_ids)
        try:
            matcher.catalogue.save(index_dir, catalogue_version=version)
            matcher.save_vector_caches(index_dir)
        except OSError:
            # The saved files now disagree with the catalogue version, so the next start rebuilds them.
            logger.exception("erasure of company %d: could not rewrite the saved index", company_id)

    version = record_change(session, kind=ChangeKind.erasure, needs=need_ids, apply_here=forget)
    counts = {
        "companies": 1,
        "needs": len(needs),
        "matches": len(matches),
        "review_decisions": len(decisions),
        "match_feedback": feedback,
        "webhook_deliveries": len(deliveries),
        "embeddings": len(embeddings),
        "pairing_plans": len(plans),
        "people": len(members),
        "invitations": len(invitations),
        "engagements": len(engagements),
        "engagement_events": len(events),
    }
    logger.info("erased company %d: %s", company_id, counts)
    return counts


def _drop_from_plan(plan: PairingPlan, company_id: int) -> None:
    """The plan without the company: its ids, scores and every revision's pairs and assignments."""
    plan.company_ids = [c for c in plan.company_ids if c != company_id]
    plan.scores = [row for row in plan.scores if int(row[0]) != company_id]
    for revision in plan.revisions:
        for name in _PAIR_LISTS:
            setattr(revision, name, [pair for pair in getattr(revision, name) if pair[0] != company_id])
        revision.assignments = [a for a in revision.assignments if a["company_id"] != company_id]
        revision.covered_companies = len({a["company_id"] for a in revision.assignments})


# Access


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _columns(row: Any) -> dict[str, Any]:
    return {column.key: _plain(getattr(row, column.key)) for column in row.__table__.columns}


def company_data(session: Session, *, company_id: int, tenant: str) -> CompanyExport:
    """Everything stored about the company: profile, needs, matches with explanations, curator
    decisions, the SME's and providers' answers to its matches, webhook deliveries, its place in
    demonstration-day plans, cached vectors, its members' accounts (without password hashes) and the
    invitations to join it."""
    company = get_company(session, company_id=company_id, tenant=tenant)
    repository = PrivacyRepository(session)
    needs = NeedRepository(session).of_company(company.id)
    need_ids = [need.id for need in needs]
    hashes = {text_hash(need_text(need_record(need))) for need in needs}
    plans = [
        PlanPlacement(
            plan_id=plan.id,
            name=plan.name,
            revision=plan.revision,
            assignments=[
                PlanAssignment.model_validate(a) for a in plan.current.assignments if a["company_id"] == company.id
            ],
        )
        for plan in repository.plans_with(company.id)
    ]
    deliveries = repository.deliveries_of(tenant=company.tenant, company_id=company.id, need_ids=need_ids)
    return CompanyExport(
        generated_at=utcnow(),
        company=CompanyRead.model_validate(company),
        needs=[NeedRead.model_validate(need) for need in needs],
        matches=[_stored_match_read(match) for match in repository.matches_of(need_ids)],
        review_decisions=[DecisionRead.of(row) for row in repository.decisions_of(need_ids)],
        match_feedback=[_columns(row) for row in repository.feedback_of(need_ids)],
        webhook_deliveries=[DeliveryRead.model_validate(row) for row in deliveries],
        pairing_plans=plans,
        engagements=[_columns(row) for row in repository.engagements_of(company.id, tenant=company.tenant)],
        engagement_events=[_columns(row) for row in repository.engagement_events_of(company.id, tenant=company.tenant)],
        embeddings=[
            CachedVector(model=row.model, text_hash=row.text_hash, dimension=row.dimension)
            for row in repository.embeddings(hashes)
        ],
        # Its members' accounts, without their password hashes, and the invitations to join it.
        people=[
            {key: value for key, value in _columns(row).items() if key != "password_hash"}
            for row in repository.people_of(company.id)
        ],
        invitations=[
            {key: value for key, value in _columns(row).items() if key != "token_hash"}
            for row in repository.invitations_of(company.id)
        ],
    )
