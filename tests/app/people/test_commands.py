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


# techmatch people


def _load(runner: CliRunner) -> None:
    from tests.app.support import MINI

    assert runner.invoke(cli, ["load", str(MINI)]).exit_code == 0


def test_people_create_each_role_and_list(runner: CliRunner, tmp_path: Path) -> None:
    _load(runner)
    for args in (
        ["fay", "--role", "facilitator"],
        ["sam", "--role", "sme", "--company", "C1", "--email", "Sam@Example.org"],
        ["pia", "--role", "provider", "--provider", "1"],
    ):
        created = runner.invoke(cli, ["people", "create", *args, "--password-stdin"], input="a long passphrase\n")
        assert created.exit_code == 0, created.output
    assert _check(tmp_path, "sam@example.org", "a long passphrase")
    rows = json.loads(runner.invoke(cli, ["people", "list", "--json"]).output.strip().splitlines()[-1])["people"]
    assert {(r["username"], r["role"], r["company_id"] is not None, r["provider_id"] is not None) for r in rows} == {
        ("fay", "facilitator", False, False),
        ("sam", "sme", True, False),
        ("pia", "provider", False, True),
    }
    only = runner.invoke(cli, ["people", "list", "--role", "sme", "--json"]).output.strip().splitlines()[-1]
    assert [r["username"] for r in json.loads(only)["people"]] == ["sam"]
    # curators list shows curators only
    assert json.loads(runner.invoke(cli, ["curators", "list", "--json"]).output.splitlines()[-1])["curators"] == []

    assert runner.invoke(cli, ["people", "disable", "sam"]).exit_code == 0
    assert not _check(tmp_path, "sam", "a long passphrase")
    assert runner.invoke(cli, ["people", "enable", "sam"]).exit_code == 0
    changed = runner.invoke(cli, ["people", "password", "sam", "--password-stdin"], input="another passphrase\n")
    assert changed.exit_code == 0 and _check(tmp_path, "sam", "another passphrase")
    # The curators commands do not reach other roles.
    assert runner.invoke(cli, ["curators", "disable", "sam"]).exit_code == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["people", "create", "x1", "--role", "sme"], "company"),
        (["people", "create", "x2", "--role", "sme", "--company", "C999"], "no company 'C999'"),
        (["people", "create", "x3", "--role", "provider", "--company", "C1"], "provider"),
        (["people", "create", "x4", "--role", "owner"], "one of curator"),
        (["people", "invite", "--role", "sme"], "company"),
    ],
)
def test_people_bad_input_exits_2(runner: CliRunner, args: list[str], message: str) -> None:
    _load(runner)
    extra = ["--password-stdin"] if "create" in args else []
    result = runner.invoke(cli, [*args, *extra], input="a long passphrase\n")
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_people_invite_prints_the_link_alone_on_its_last_line(runner: CliRunner, tmp_path: Path) -> None:
    _load(runner)
    result = runner.invoke(
        cli, ["people", "invite", "--role", "sme", "--company", "C2", "--base-url", "https://hub.example/"]
    )
    assert result.exit_code == 0, result.output
    link = result.stdout.strip().splitlines()[-1]
    assert link.startswith("https://hub.example/invitations/") and len(link.rsplit("/", 1)[1]) >= 40
    engine = create_db_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    try:
        with unit_of_work(create_session_factory(engine)) as session:
            invitation = curators.open_invitation(session, token=link.rsplit("/", 1)[1])
            assert invitation.invited_by == "cli" and invitation.role.value == "sme"
    finally:
        engine.dispose()
