"""Test helpers for the service: the mini data set, loading it, an encoder that counts its work, API keys."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.catalogue.loader import load_dataset
from app.core.database import create_db_engine, create_session_factory, unit_of_work
from app.core.migrations import ensure_schema
from app.core.settings import Settings
from app.indexing.service import use_vector_backend
from app.keys.service import create_key
from matching.encoders.base import HASHING_MODEL, Encoder, TextKind
from matching.encoders.factory import load_encoder
from matching.evaluation.datasets import load_dataset as read_dataset
from matching.matcher import Matcher
from tests.app.databases import VECTOR_BACKEND

# Tests that read or damage the saved FAISS files; the pgvector pass covers the same ground in
# tests/app/indexing/test_pgvector.py.
faiss_files = pytest.mark.skipif(
    VECTOR_BACKEND != "faiss", reason="reads the saved FAISS files; pgvector keeps vectors in the database"
)

MINI = Path(__file__).resolve().parent.parent / "fixtures" / "mini"
# The hashing encoder's scores are honestly low (calibrated on the demo labels its best pairs reach
# about 0.14), so the match threshold would hide every match; tests of the flows show them all, and
# the tests of the threshold itself set one.
HASHING_THRESHOLD = 0.0


class CountingEncoder:
    """Wraps an encoder and counts the texts it was asked to encode."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.symmetric = inner.symmetric
        self.texts_encoded = 0

    def encode(
        self,
        texts: Sequence[str],
        *,
        kind: TextKind = "passage",
        batch_size: int = 64,
        show_progress: bool = False,
    ) -> np.ndarray:
        self.texts_encoded += len(texts)
        return self.inner.encode(texts, kind=kind, batch_size=batch_size, show_progress=show_progress)


def counting_matcher() -> tuple[Matcher, CountingEncoder]:
    encoder = CountingEncoder(load_encoder(HASHING_MODEL))
    return Matcher(encoder), encoder


def load_mini(settings: Settings) -> None:
    """Loads the mini data set into the settings' database and saves its index."""
    engine = create_db_engine(settings.database_url)
    ensure_schema(engine)
    matcher = Matcher(load_encoder(HASHING_MODEL))
    use_vector_backend(matcher, settings=settings, engine=engine)
    load_dataset(
        create_session_factory(engine),
        dataset=read_dataset(MINI),
        matcher=matcher,
        index_dir=settings.index_dir,
    )
    engine.dispose()


def create_api_key(app: FastAPI, *, tenant: str = "default", scopes: Sequence[str] = ("admin",)) -> str:
    """A new key in the app's database (its tables must exist: call once the app has started)."""
    with unit_of_work(app.state.session_factory) as session:
        return create_key(session, tenant=tenant, scopes=scopes, name="test").secret


def started_app(settings: Settings, matcher: Matcher) -> FastAPI:
    """An app started and stopped once around `matcher` (its start-up has run: state.index_sync is set)."""
    from app.main import create_app

    app = create_app(settings, matcher=matcher)
    with TestClient(app) as client:
        authorize(client)
        assert client.get("/readyz").status_code == 200
    return app


def authorize(client: TestClient, *, tenant: str = "default", scopes: Sequence[str] = ("admin",)) -> str:
    """Makes `client` (already started) send a new key of `tenant` with `scopes`; returns the key."""
    app = client.app
    assert isinstance(app, FastAPI)
    key = create_api_key(app, tenant=tenant, scopes=scopes)
    client.headers["Authorization"] = f"Bearer {key}"
    return key
