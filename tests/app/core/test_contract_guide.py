"""Runs the curl examples of docs/integration.md against a real server and checks every answer's status."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.errors import PROBLEM_TYPES
from scripts.liveserver import free_port, poll_ready
from tests.app.support import HASHING_THRESHOLD

ROOT = Path(__file__).resolve().parents[3]
GUIDE = ROOT / "docs" / "integration.md"
BIN = Path(sys.executable).parent
GUIDE_URL = "http://127.0.0.1:8000"
EXPECT = re.compile(r"^# expect (\d{3})$")


def _blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.DOTALL)


def _expected(blocks: list[str]) -> list[int]:
    return [int(m.group(1)) for block in blocks for line in block.splitlines() if (m := EXPECT.match(line))]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """`techmatch serve` on the demo catalogue with the fast hashing encoder, in a throw-away database."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TECHMATCH_")} | {
        "TECHMATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'guide.db'}",
        "TECHMATCH_DATA_DIR": str(tmp_path / "data"),
        "TECHMATCH_MODEL": "hashing",
        "TECHMATCH_MATCH_THRESHOLD": str(HASHING_THRESHOLD),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "HF_HUB_OFFLINE": "1",
    }
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "techmatch"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        poll_ready(
            url, timeout=180, gone=lambda: None if process.poll() is None else (tmp_path / "server.log").read_text()
        )
        yield url, env
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_every_example_has_an_expected_status() -> None:
    blocks = _blocks()
    assert len(blocks) >= 6
    commands = sum(len(re.findall(r"(?<![\w-])curl ", block)) for block in blocks)
    assert commands == len(_expected(blocks)) >= 12


@pytest.mark.server
def test_the_guide_runs_as_written(server: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    url, env = server
    blocks = _blocks()
    # Each curl also writes its status code on stderr, one line each, leaving stdout to jq.
    script = "\n".join(
        [
            "set -euo pipefail",
            "curl() { command curl -w '%{stderr}status=%{http_code}\\n' \"$@\"; }",
            *(block.replace(GUIDE_URL, url) for block in blocks),
        ]
    )
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    statuses = [int(s) for s in re.findall(r"^status=(\d{3})$", result.stderr, flags=re.MULTILINE)]
    assert statuses == _expected(blocks), result.stdout + result.stderr
    # The approved match reached the member-page read, and the rate-limit headers were shown.
    assert '"status": "approved"' in result.stdout
    assert re.search(r"^ratelimit-remaining: \d+", result.stdout, flags=re.MULTILINE | re.IGNORECASE)


def test_every_problem_type_is_documented() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    missing = [uri for uri in PROBLEM_TYPES.values() if f"`{uri}`" not in text]
    assert missing == []
