"""SME page fixtures: the people fixtures (one person per role on the mini catalogue) and a released match."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy import select

from app.core.database import unit_of_work
from app.models import Match, MatchStatus, Need, Technology
from app.review import service as review
from tests.app.people.conftest import cast, web  # noqa: F401 (fixtures)

# What the engine stores for a pair (matching.types.ScoreComponents), so the stored match reads back.
COMPONENTS = {"dense": 0.6, "lexical": 0.3, "taxonomy": 0.5, "sector": 0.0, "constraint_penalty": 0.0}


@dataclass(frozen=True)
class Released:
    need_id: int
    match_id: int
    technology_title: str


def release(
    app: FastAPI,
    *,
    company_id: int,
    provider_id: int,
    title: str = "Svejsesømme revner",
    lang: str = "da",
    summary: str = "Stærkt match: de skrev om svejsning.",
) -> Released:
    """A need of the company with one match to the provider's first offering, approved by a curator through
    the review service (what releases it to both sides)."""
    with unit_of_work(app.state.session_factory) as session:
        technology = session.scalars(
            select(Technology).where(Technology.provider_id == provider_id).order_by(Technology.id)
        ).first()
        assert technology is not None
        need = Need(
            tenant="default", company_id=company_id, title=title, description="Vi har revner i sømmene.", lang=lang
        )
        session.add(need)
        session.flush()
        match = Match(
            need_id=need.id,
            technology_id=technology.id,
            score=0.55,
            rank=1,
            components=COMPONENTS,
            explanation={
                "summary": summary,
                "sentence_pairs": [],
                "shared_terms": [],
                "shared_categories": [],
                "need_categories": [],
                "constraints": [],
                "strength": "good",
                "language": lang,
            },
            status=MatchStatus.proposed,
        )
        session.add(match)
        session.flush()
        review.decide(
            session,
            actor=review.Actor(name="cora", kind="curator", tenant="default"),
            match_id=match.id,
            request=review.DecisionRequest(action=review.Action.approve),
        )
        return Released(need_id=need.id, match_id=match.id, technology_title=technology.title)
