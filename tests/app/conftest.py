"""Service fixtures: per-test settings, SQLite database and data dir; apps on the hashing encoder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.core.settings import Settings
from app.main import create_app
from matching.encoders.base import HASHING_MODEL
from tests.app.databases import VECTOR_BACKEND, TestDatabases
from tests.app.support import HASHING_THRESHOLD, authorize, load_mini


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No TECHMATCH_* variable or .env file of the developer's leaks into a test."""
    for name in list(os.environ):
        if name.startswith("TECHMATCH_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    """The CLI on its own SQLite file and data dir, with the hashing encoder."""
    monkeypatch.setenv("TECHMATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("TECHMATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TECHMATCH_MODEL", "hashing")
    monkeypatch.setenv("TECHMATCH_MATCH_THRESHOLD", str(HASHING_THRESHOLD))
    return CliRunner()


@pytest.fixture
def vector_backend() -> str:
    """The backend the app tests run on: faiss, or pgvector in scripts/test-postgres.sh's second pass."""
    return VECTOR_BACKEND


@pytest.fixture(scope="session")
def test_databases(tmp_path_factory: pytest.TempPathFactory) -> TestDatabases:
    return TestDatabases.prepare(tmp_path_factory.mktemp("schema"))


@pytest.fixture
def database_url(test_databases: TestDatabases, tmp_path: Path) -> str:
    """An empty database at the migration head: SQLite, or PostgreSQL under TECHMATCH_TEST_DATABASE_URL."""
    return test_databases.fresh(tmp_path)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        data_dir=tmp_path / "data",
        model=HASHING_MODEL,
        match_threshold=HASHING_THRESHOLD,
        # Tests send bursts no website would; the limit's own tests set a low one.
        rate_limit="100000/minute",
        vector_backend=VECTOR_BACKEND,  # type: ignore[arg-type]
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    created = create_app(settings)
    yield created
    # A test may use the app's sessions without starting it; its lifespan would have closed them.
    created.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """Started, and sending an admin key of the default tenant."""
    with TestClient(app) as test_client:
        authorize(test_client)
        yield test_client


@pytest.fixture
def loaded_settings(settings: Settings) -> Settings:
    load_mini(settings)
    return settings


@pytest.fixture
def loaded_app(loaded_settings: Settings) -> Iterator[FastAPI]:
    created = create_app(loaded_settings)
    yield created
    created.state.engine.dispose()


@pytest.fixture
def loaded_client(loaded_app: FastAPI) -> Iterator[TestClient]:
    """Started on the mini data set, and sending an admin key of the default tenant."""
    with TestClient(loaded_app) as test_client:
        authorize(test_client)
        yield test_client
