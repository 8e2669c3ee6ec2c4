"""Schema migrations: one head, migrations that match the models, and an app that refuses an old schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect
from typer.testing import CliRunner

from app.cli import cli
from app.core.database import create_db_engine
from app.core.migrations import (
    SchemaNotCurrent,
    check_schema,
    current_revisions,
    declared_heads,
    downgrade,
    ensure_schema,
    head_revisions,
    schema_differences,
    upgrade,
)
from app.core.settings import Settings
from app.main import create_app
from app.models import Base
from matching.encoders.base import HASHING_MODEL


def _empty_sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'empty.db'}"


def test_exactly_one_head() -> None:
    assert len(head_revisions()) == 1, f"several heads, merge them: {head_revisions()}"


def test_heads_read_without_alembic_are_alembics(tmp_path: Path) -> None:
    # The fast start-up check reads the revision files itself; it must agree with Alembic's graph,
    # including for a branch point and a merge, which the shipped history has not needed yet.
    assert declared_heads() == head_revisions()


def test_migrated_database_matches_the_models(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        assert current_revisions(engine) == head_revisions()
        # What `alembic revision --autogenerate` would write: a model change without a revision shows here.
        assert schema_differences(engine) == []
    finally:
        engine.dispose()


def test_downgrade_to_base_and_upgrade_again(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        downgrade(engine, revision="base")
        assert set(inspect(engine).get_table_names()) & set(Base.metadata.tables) == set()
        upgrade(engine)
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        assert schema_differences(engine) == []
    finally:
        engine.dispose()


def test_app_refuses_to_start_on_an_unmigrated_database(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=_empty_sqlite(tmp_path),
        data_dir=tmp_path / "data",
        model=HASHING_MODEL,
    )
    with (
        pytest.raises(SchemaNotCurrent, match=r"not migrated: run `techmatch db upgrade`"),
        TestClient(create_app(settings)),
    ):
        pass


def test_app_refuses_a_database_behind_the_code(tmp_path: Path) -> None:
    url = _empty_sqlite(tmp_path)
    engine = create_db_engine(url)
    upgrade(engine, revision="0001")
    engine.dispose()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        data_dir=tmp_path / "data",
        model=HASHING_MODEL,
    )
    expected = rf"is at revision 0001, the code expects {head_revisions()[0]}: run `techmatch db upgrade`"
    with pytest.raises(SchemaNotCurrent, match=expected), TestClient(create_app(settings)):
        pass


def test_app_refuses_a_database_made_before_migrations(tmp_path: Path) -> None:
    engine = create_db_engine(_empty_sqlite(tmp_path))
    Base.metadata.create_all(engine)
    try:
        with pytest.raises(SchemaNotCurrent, match=r"no migration history.*techmatch db stamp"):
            check_schema(engine)
        # The CLI's convenience upgrade must not run over tables it did not create.
        with pytest.raises(SchemaNotCurrent):
            ensure_schema(engine)
    finally:
        engine.dispose()


def test_app_starts_on_a_migrated_database(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200


def test_embedded_database_is_upgraded_and_a_server_database_only_checked(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        downgrade(engine, revision="base")
        if engine.dialect.name == "sqlite":
            ensure_schema(engine)
            assert current_revisions(engine) == head_revisions()
        else:
            # A shared server schema changes only by a deliberate `techmatch db upgrade`.
            with pytest.raises(SchemaNotCurrent, match="techmatch db upgrade"):
                ensure_schema(engine)
            assert current_revisions(engine) == ()
            upgrade(engine)
    finally:
        engine.dispose()


def test_cli_upgrade_and_current(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TECHMATCH_DATABASE_URL", _empty_sqlite(tmp_path))
    runner = CliRunner()
    behind = runner.invoke(cli, ["db", "current"])
    assert behind.exit_code == 1
    assert "not migrated" in behind.output and "techmatch db upgrade" in behind.output
    upgraded = runner.invoke(cli, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"database at {head_revisions()[0]} (was empty)" in upgraded.output
    current = runner.invoke(cli, ["db", "current"])
    assert current.exit_code == 0
    assert f"database: {head_revisions()[0]}" in current.output


def test_cli_refuses_to_upgrade_over_tables_it_did_not_create(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = _empty_sqlite(tmp_path)
    engine = create_db_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    monkeypatch.setenv("TECHMATCH_DATABASE_URL", url)
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "no migration history" in result.output
