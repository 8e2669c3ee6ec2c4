"""`techmatch curators`: accounts created from the CLI sign in; disabled ones do not; bad input exits 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.core.database import create_db_engine, create_session_factory, unit_of_work
from app.people import service as curators


def _check(tmp_path: Path, username: str, password: str) -> bool:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    try:
        session: Session
        with unit_of_work(create_session_factory(engine)) as session:
            return curators.authenticate(session, username=username, password=password) is not None
    finally:
        engine.dispose()


def test_create_list_disable_enable(runner: CliRunner, tmp_path: Path) -> None:
    created = runner.invoke(
        cli, ["curators", "create", "mette", "--tenant", "north", "--password-stdin"], input="a long passphrase\n"
    )
    assert created.exit_code == 0, created.output
    assert "created curator mette for tenant north" in created.output
    assert _check(tmp_path, "mette", "a long passphrase")
    assert not _check(tmp_path, "mette", "a long passphrase\n")

    listed = runner.invoke(cli, ["curators", "list", "--json"])
    rows = json.loads(listed.output.strip().splitlines()[-1])["curators"]
    assert [(r["username"], r["tenant"], r["active"]) for r in rows] == [("mette", "north", True)]
    assert rows[0]["last_login_at"] is not None  # the check above signed in

    assert runner.invoke(cli, ["curators", "disable", "mette"]).exit_code == 0
    assert not _check(tmp_path, "mette", "a long passphrase")
    assert runner.invoke(cli, ["curators", "enable", "mette"]).exit_code == 0
    assert _check(tmp_path, "mette", "a long passphrase")

    changed = runner.invoke(cli, ["curators", "password", "mette", "--password-stdin"], input="another passphrase\n")
    assert changed.exit_code == 0
    assert _check(tmp_path, "mette", "another passphrase") and not _check(tmp_path, "mette", "a long passphrase")


def test_password_prompt_asks_twice(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["curators", "create", "ole"], input="prompted secret\nprompted secret\n")
    assert result.exit_code == 0, result.output
    assert _check(tmp_path, "ole", "prompted secret")


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["curators", "create", "mette"], "short", "at least 10 characters"),
        (["curators", "create", "no spaces allowed"], "long enough password", "letters, digits"),
        (["curators", "create", "mette", "--tenant", "Not A Slug"], "long enough password", "slug"),
        (["curators", "disable", "nobody"], "", "no curator 'nobody'"),
    ],
)
def test_bad_input_exits_2(runner: CliRunner, args: list[str], password: str, message: str) -> None:
    result = runner.invoke(cli, [*args, "--password-stdin"] if "create" in args else args, input=f"{password}\n")
    assert result.exit_code == 2
    assert message in result.output


def test_duplicate_username_exits_2(runner: CliRunner) -> None:
    first = ["curators", "create", "mette", "--password-stdin"]
    assert runner.invoke(cli, first, input="long enough password\n").exit_code == 0
    again = runner.invoke(cli, first, input="long enough password\n")
    assert again.exit_code == 2 and "exists" in again.output
