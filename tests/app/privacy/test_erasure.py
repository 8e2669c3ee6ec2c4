"""Erasure and access (GDPR): after DELETE /companies/{id} nothing of the company is left anywhere."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import JSON, LargeBinary, String, Text, select

from app.core.database import unit_of_work
from app.core.settings import Settings
from app.main import create_app
from app.models import (
    Base,
    CatalogueState,
    Embedding,
    Match,
    Need,
    PairingPlan,
    ReviewDecision,
    Role,
    WebhookDelivery,
    WebhookSubscription,
)
from app.people import service as people
from matching.matcher import SENTENCE_CACHE_FILE, Matcher
from matching.ranking.explanation import evidence_text
from matching.retrieval.queries import QUERY_CACHE_FILE
from matching.retrieval.sentence_cache import _digest
from matching.retrieval.texts import split_sentences
from matching.retrieval.vector_index import VectorIndex
from tests.app.support import authorize

MARKER = "Zyxqmarker"  # in the company's name and texts, and nowhere else
MARKER_TOKEN = MARKER.lower()[:6]  # a prefix any stemmed form of it keeps


def _app(client: TestClient) -> FastAPI:
    app = client.app
    assert isinstance(app, FastAPI)
    return app


def _text_columns() -> list[tuple[Any, Any]]:
    return [
        (table, column)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, String | Text | JSON | LargeBinary)
    ]


def _occurrences(app: FastAPI, needle: str) -> list[str]:
    """Every table.column in the database whose value contains `needle` (JSON and bytes included)."""
    found = []
    with unit_of_work(app.state.session_factory) as session:
        for table, column in _text_columns():
            for (value,) in session.execute(select(column).select_from(table)):
                if value is None:
                    continue
                if isinstance(value, bytes):
                    hit = needle.encode() in value
                elif isinstance(value, str):
                    hit = needle in value
                else:
                    hit = needle in json.dumps(value, ensure_ascii=False)
                if hit:
                    found.append(f"{table.name}.{column.name}")
    return found


@pytest.fixture
def company(loaded_client: TestClient) -> dict[str, Any]:
    """A company with two needs of its own text and one whose text another company's need has too."""
    client = loaded_client
    body = {
        "ref": "ERASE1",
        "name": f"{MARKER} Plast ApS",
        "sector": "plastics",
        "region": "DK-83",
        "description": f"{MARKER} moulds lids for paint buckets.",
    }
    created = client.post("/api/v1/companies", json=body).json()
    need_ids = []
    for number, (title, description) in enumerate(
        [
            (
                f"{MARKER} lids warp after moulding",
                f"Our {MARKER} lids warp when they cool and 5% are scrapped. We want to see it before packing.",
            ),
            (f"{MARKER} moulds break", f"The {MARKER} moulds crack without warning; we lose a shift each time."),
        ]
    ):
        need = {
            "ref": f"ERASE-N{number}",
            "company_id": created["id"],
            "title": title,
            "description": description,
            "lang": "en",
        }
        need_ids.append(client.post("/api/v1/needs", json=need).json()["id"])
    shared = next(n for n in client.get("/api/v1/needs", params={"limit": 100}).json()["items"] if n["ref"] == "N1")
    need = {"company_id": created["id"], "title": shared["title"], "description": shared["description"]}
    need_ids.append(client.post("/api/v1/needs", json=need).json()["id"])

    for need_id in need_ids:
        assert client.post(f"/api/v1/needs/{need_id}/matches").status_code == 200
    plan = {
        "company_ids": [created["id"], shared["company_id"]],
        "provider_ids": _provider_ids(client),
        "default_capacity": 2,
        "max_per_company": 2,
    }
    response = client.post("/api/v1/pairing-plans", json=plan)
    assert response.status_code == 201, response.text

    # A curator decision and a webhook delivery, as the review and webhook services write them.
    with unit_of_work(_app(client).state.session_factory) as session:
        match = session.scalars(select(Match).where(Match.need_id == need_ids[0])).first()
        assert match is not None and MARKER in json.dumps(match.explanation)
        session.add(
            ReviewDecision(
                tenant="default",
                match_id=match.id,
                need_id=need_ids[0],
                technology_id=match.technology_id,
                actor="curator",
                actor_kind="curator",
                action="approve_edited",
                reason_code=None,
                reason_text=None,
                before={"summary": "x"},
                after={"summary": f"Fits {MARKER} well"},
            )
        )
        subscription = WebhookSubscription(
            tenant="default", url="https://hooks.example/x", events=["need.matched"], secret="s" * 32
        )
        session.add(subscription)
        session.flush()
        session.add(
            WebhookDelivery(
                subscription_id=subscription.id,
                tenant="default",
                event="need.matched",
                payload={"need_id": need_ids[0], "company_id": created["id"], "need_ref": f"{MARKER}-ref"},
            )
        )
        # A member of the company and an invitation to join it, as the people service writes them.
        people.create_person(
            session,
            username=f"{MARKER}-member",
            email=f"{MARKER}@member.example",
            password="a long passphrase",
            role=Role.sme,
            tenant="default",
            company_id=created["id"],
        )
        people.invite(
            session,
            tenant="default",
            role=Role.sme,
            company_id=created["id"],
            email=f"{MARKER}@invited.example",
            invited_by="curator",
            days=7,
        )
    return {"id": created["id"], "need_ids": need_ids, "shared_need_id": shared["id"]}


def _provider_ids(client: TestClient) -> list[int]:
    return [p["id"] for p in client.get("/api/v1/providers", params={"limit": 100}).json()["items"]]


def test_access_export_holds_everything_stored_about_the_company(
    loaded_client: TestClient, company: dict[str, Any]
) -> None:
    response = loaded_client.get(f"/api/v1/companies/{company['id']}/export")
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["company"]["name"].startswith(MARKER)
    assert sorted(n["id"] for n in data["needs"]) == sorted(company["need_ids"])
    assert {m["need_id"] for m in data["matches"]} == set(company["need_ids"])
    assert all(m["explanation"]["summary"] for m in data["matches"])
    assert [d["after"]["summary"] for d in data["review_decisions"]] == [f"Fits {MARKER} well"]
    assert [d["payload"]["company_id"] for d in data["webhook_deliveries"]] == [company["id"]]
    (plan,) = data["pairing_plans"]
    assert all(a["company_id"] == company["id"] for a in plan["assignments"])
    assert len(data["embeddings"]) == 3
    assert [p["username"] for p in data["people"]] == [f"{MARKER}-member"]
    assert all("password_hash" not in p for p in data["people"])
    assert [i["email"] for i in data["invitations"]] == [f"{MARKER.lower()}@invited.example"]

    authorize(loaded_client, tenant="elsewhere", scopes=("needs:write",))
    assert loaded_client.get(f"/api/v1/companies/{company['id']}/export").status_code == 404
    assert loaded_client.delete(f"/api/v1/companies/{company['id']}").status_code == 404


def test_erasure_leaves_nothing_in_the_database_or_the_index(
    loaded_client: TestClient, loaded_settings: Settings, company: dict[str, Any], vector_backend: str
) -> None:
    app = _app(loaded_client)
    matcher: Matcher = app.state.matcher
    need_ids = set(company["need_ids"])
    assert _occurrences(app, MARKER)  # the scan finds the marker while the company exists
    assert need_ids <= matcher.catalogue.need_ids()
    # Matches with explanations put the needs' texts and sentences in the vector caches.
    for need_id in need_ids:
        assert loaded_client.post(f"/api/v1/needs/{need_id}/matches").status_code == 200
    erased_texts = [matcher.catalogue.needs.texts[i] for i in need_ids]
    erased_sentences = [
        s
        for i in need_ids
        for s in split_sentences(
            evidence_text(matcher.catalogue.needs.records[i].title, matcher.catalogue.needs.records[i].description)
        )
    ]
    cached = {_digest("query", s) for s in erased_sentences} & set(matcher.explainer.sentence_cache._entries)
    assert cached  # the explanations cached the needs' sentences
    with unit_of_work(app.state.session_factory) as session:
        before = {row.text_hash for row in session.scalars(select(Embedding))}
    needs_before = loaded_client.get("/api/v1/needs", params={"limit": 100}).json()["total"]

    response = loaded_client.delete(f"/api/v1/companies/{company['id']}")
    assert response.status_code == 204, response.text

    # The database: no text, JSON or blob column of any table holds the marker.
    assert _occurrences(app, MARKER) == []
    with unit_of_work(app.state.session_factory) as session:
        assert session.scalars(select(Match).where(Match.need_id.in_(need_ids))).all() == []
        assert session.scalars(select(Need).where(Need.company_id == company["id"])).all() == []
        assert session.scalars(select(ReviewDecision).where(ReviewDecision.need_id.in_(need_ids))).all() == []
        assert session.scalars(select(WebhookDelivery)).all() == []
        for plan in session.scalars(select(PairingPlan)):
            assert company["id"] not in plan.company_ids
            assert all(int(row[0]) != company["id"] for row in plan.scores)
            for revision in plan.revisions:
                assert all(a["company_id"] != company["id"] for a in revision.assignments)
        after = {row.text_hash for row in session.scalars(select(Embedding))}
        version = session.get(CatalogueState, 1).version  # type: ignore[union-attr]
    # The two vectors of the company's own texts are gone; the one another company's need shares stays.
    assert len(before - after) == 2
    shared = loaded_client.get(f"/api/v1/needs/{company['shared_need_id']}").json()
    assert shared["title"] and loaded_client.post(f"/api/v1/needs/{shared['id']}/matches").status_code == 200
    assert loaded_client.get("/api/v1/needs", params={"limit": 100}).json()["total"] == needs_before - 3
    assert loaded_client.get(f"/api/v1/companies/{company['id']}").status_code == 404

    # The index in memory: no id, record, text or BM25 document of the needs.
    assert not need_ids & matcher.catalogue.need_ids()
    side = matcher.catalogue.needs  # the engine's need side: records, texts, vectors and BM25 together
    assert not need_ids & set(side.records) and not need_ids & set(side.texts)
    assert not need_ids & set(side.lexical._tokens)
    assert not any(MARKER_TOKEN in token for tokens in side.lexical._tokens.values() for token in tokens)
    assert not need_ids & set(side.vectors.ids().tolist())
    assert all(MARKER not in text for text in side.texts.values())
    for technology in loaded_client.get("/api/v1/technologies", params={"limit": 100}).json()["items"]:
        leads = loaded_client.get(f"/api/v1/technologies/{technology['id']}/leads", params={"k": 50})
        assert leads.status_code == 200
        assert not need_ids & {lead["need_id"] for lead in leads.json()["items"]}
        assert MARKER not in leads.text

    # The vector caches, in memory and as saved beside the index: no vector of the needs' texts or sentences.
    # (Less those of the need another company shares the text of, which was explained again above.)
    kept = split_sentences(evidence_text(shared["title"], shared["description"]))
    gone = {_digest("query", t) for t in erased_texts} | {
        _digest(kind, s) for s in set(erased_sentences) - set(kept) for kind in ("query", "passage")
    }
    assert gone
    assert not gone & set(matcher.query_cache._entries) and not gone & set(matcher.explainer.sentence_cache._entries)
    for cache_file in (QUERY_CACHE_FILE, SENTENCE_CACHE_FILE):
        with np.load(loaded_settings.index_dir / cache_file) as saved_cache:
            assert not gone & {bytes(row) for row in saved_cache["keys"]}

    # The saved index: rewritten without the needs, stamped with the new catalogue version. (On pgvector
    # the vectors are rows, checked through the need side above; the folder holds BM25 and the caches.)
    index_dir = loaded_settings.index_dir
    if vector_backend == "faiss":
        meta = json.loads((index_dir / "needs.meta.json").read_text())
        assert meta["catalogue_version"] == version
        expected = matcher.catalogue.saved.meta(meta["count"], version)
        saved = VectorIndex.load(index_dir, name="needs", expected=expected)
        assert not need_ids & set(saved.ids().tolist())
    for path in index_dir.iterdir():
        assert MARKER.encode() not in path.read_bytes()

    # A restart finds the saved index consistent with the database: loaded, not rebuilt.
    with TestClient(create_app(loaded_settings)) as restarted:
        assert _app(restarted).state.index_sync.outcome == "loaded"
        assert not need_ids & _app(restarted).state.matcher.catalogue.need_ids()


def test_erasing_an_unknown_company_is_404(loaded_client: TestClient) -> None:
    response = loaded_client.delete("/api/v1/companies/999999")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
