"""Concurrent ad-hoc matches on a real uvicorn server: no error; an API key's use stamp holds no write lock."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import numpy as np
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.core import database as app_db
from app.core.database import unit_of_work
from app.core.problems import install_error_handlers
from app.core.settings import Settings
from app.keys.service import authenticate
from app.main import create_app
from app.models import ApiKey
from matching.encoders.hashing import HashingEncoder
from matching.matcher import Matcher
from scripts.liveserver import free_port, poll_ready
from tests.app.support import create_api_key

QUERIES = (
    "Our bearings fail without warning and each stop costs a shift of production.",
    "We want a robot to weld small batches of steel frames.",
    "Camera inspection of painted parts for scratches before packing.",
    "Plan the production schedule of three machining cells automatically.",
)


class SlowEncoder(HashingEncoder):
    """The hashing encoder taking a model's time per call, so requests overlap as they do in production."""

    def encode(self, texts: Sequence[str], **options: Any) -> np.ndarray:
        time.sleep(0.05)
        return super().encode(texts, **options)


@pytest.fixture
def live_url(loaded_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, FastAPI]]:
    """The service on a real uvicorn server on 127.0.0.1 (own thread), with the mini data set.

    SQLite's busy timeout is cut from 10 s to 20 ms, below the time a request takes here (the
    production ratio: a match under load took longer than 10 s), so a write lock held across a
    request makes the others fail instead of queueing.
    """
    monkeypatch.setattr(app_db, "SQLITE_BUSY_TIMEOUT_MS", 20)
    app = create_app(loaded_settings, matcher=Matcher(SlowEncoder()))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    poll_ready(url, timeout=60, gone=lambda: None if thread.is_alive() else "the server thread ended")
    try:
        yield url, app
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.mark.server
def test_concurrent_ad_hoc_matches_all_succeed(live_url: tuple[str, FastAPI]) -> None:
    url, app = live_url
    statuses: list[int] = []
    # Fresh keys: every first request of a key wants to stamp last_used_at at the same moment.
    for _ in range(3):
        key = create_api_key(app)
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=url, headers=headers, timeout=60, limits=httpx.Limits(max_connections=32)) as client:

            def post(number: int, client: httpx.Client = client) -> int:
                response = client.post("/api/v1/match", json={"text": QUERIES[number % len(QUERIES)], "k": 5})
                assert response.status_code != 200 or response.json()["items"], response.text
                return response.status_code

            with ThreadPoolExecutor(32) as pool:
                statuses += list(pool.map(post, range(96)))
    assert len(statuses) == 288
    assert {status for status in statuses if not 200 <= status < 300} == set()
    with unit_of_work(app.state.session_factory) as session:
        stamped = session.scalars(select(ApiKey.last_used_at).where(ApiKey.name == "test")).all()
    assert len(stamped) == 3 and all(stamp is not None for stamp in stamped)


def test_authenticating_leaves_no_write_lock_in_the_request(loaded_app: FastAPI) -> None:
    url = make_url(loaded_app.state.settings.database_url)
    key = create_api_key(loaded_app)
    factory = loaded_app.state.session_factory
    with unit_of_work(factory) as session:
        found = authenticate(session, presented=key)
        assert found is not None and found.last_used_at is not None  # stamped, and visible to the caller
        assert not session.dirty and not session.new
        # While the request's session is still open, the stamp is already committed ...
        with unit_of_work(factory) as other:
            assert other.scalars(select(ApiKey.last_used_at).where(ApiKey.id == found.id)).one() is not None
        if url.get_backend_name() == "sqlite":
            # ... and another writer gets SQLite's database-wide write lock at once.
            writer = sqlite3.connect(url.database, timeout=0)
            try:
                writer.execute("BEGIN IMMEDIATE")
                writer.rollback()
            finally:
                writer.close()


def test_a_busy_database_is_a_503_with_retry_after() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/locked")
    def locked() -> None:
        raise OperationalError("UPDATE x", {}, sqlite3.OperationalError("database is locked"))

    @app.get("/pool")
    def pool() -> None:
        raise PoolTimeout("QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00")

    @app.get("/broken")
    def broken() -> None:
        raise OperationalError("SELECT x", {}, sqlite3.OperationalError("no such table: x"))

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/locked")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == 503
        exhausted = client.get("/pool")
        assert (exhausted.status_code, exhausted.headers["retry-after"]) == (503, "1")
        assert client.get("/broken").status_code == 500  # other operational errors stay server faults
