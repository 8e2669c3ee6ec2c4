"""Rate limits shared by several processes through Redis, and what happens when Redis is gone."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.settings import Settings
from app.main import create_app
from tests.app.support import create_api_key
from tests.redis import redis_server

pytestmark = pytest.mark.server


def test_two_processes_count_one_key_together(settings: Settings, tmp_path: Path) -> None:
    with redis_server(tmp_path) as url:
        shared = settings.model_copy(update={"rate_limit": "4/minute", "rate_limit_storage": url})
        first = create_app(shared)
        second = create_app(shared.model_copy(update={"data_dir": tmp_path / "second"}))
        with TestClient(first) as a, TestClient(second) as b:
            headers = {"Authorization": f"Bearer {create_api_key(first, scopes=('matches:read',))}"}
            statuses = [(a if n % 2 else b).get("/api/v1/technologies", headers=headers).status_code for n in range(5)]
            # Four in all, whichever process answered; in memory each would have allowed four.
            assert statuses == [200, 200, 200, 200, 429]


def test_an_unreachable_store_lets_requests_through(settings: Settings, tmp_path: Path) -> None:
    with redis_server(tmp_path) as url:
        pass  # stopped: nothing listens there now
    app = create_app(settings.model_copy(update={"rate_limit": "1/minute", "rate_limit_storage": url}))
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {create_api_key(app, scopes=('matches:read',))}"}
        assert [client.get("/api/v1/technologies", headers=headers).status_code for _ in range(3)] == [200] * 3
