"""A real `techmatch serve` process on 127.0.0.1 with its own SQLite database, for crash and soak runs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
TECHMATCH = Path(sys.executable).with_name("techmatch")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def poll_ready(
    url: str, *, timeout: float, gone: Callable[[], str | None] = lambda: None, key: str | None = None
) -> dict[str, object]:
    """Polls `url`/readyz until it answers 200 and returns its body (with `key`: the model and that key's
    tenant's counts; without one, only the status).

    `gone()` names why the server can no longer answer (its process exited, its thread ended), or
    None while it runs; then RuntimeError, and TimeoutError when `timeout` seconds pass.
    """
    deadline = time.monotonic() + timeout
    last = "no answer"
    headers = {"Authorization": f"Bearer {key}"} if key else None
    with httpx.Client(base_url=url, timeout=5, headers=headers) as client:
        while time.monotonic() < deadline:
            reason = gone()
            if reason is not None:
                raise RuntimeError(f"the server exited: {reason}")
            try:
                response = client.get("/readyz")
            except httpx.TransportError as exc:
                last = repr(exc)
            else:
                if response.status_code == 200:
                    body: dict[str, object] = response.json()
                    return body
                last = f"{response.status_code} {response.text[:300]}"
            time.sleep(0.1)
    raise TimeoutError(f"not ready after {timeout} s: {last}")


def server_env(workdir: Path, **extra: str) -> dict[str, str]:
    """Settings for a throw-away service in `workdir`: SQLite file, hashing encoder, no rate limit."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("TECHMATCH_")}
    env.update(
        TECHMATCH_DATABASE_URL=f"sqlite:///{workdir / 'techmatch.db'}",
        TECHMATCH_DATA_DIR=str(workdir / "data"),
        TECHMATCH_MODEL="hashing",
        TECHMATCH_RATE_LIMIT="1000000/minute",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        **extra,
    )
    return env


def techmatch(*args: str, env: dict[str, str], cwd: Path, timeout: float = 300) -> str:
    """Runs a `techmatch` command to completion; returns its standard output, raises on failure."""
    result = subprocess.run(
        [str(TECHMATCH), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"techmatch {' '.join(args)} failed ({result.returncode}): {result.stderr[-2000:]}")
    return result.stdout


def prepare(workdir: Path, *, dataset: Path | None, env: dict[str, str]) -> str:
    """Schema at head, `dataset` loaded (if any), and a new admin key of the default tenant (returned)."""
    workdir.mkdir(parents=True, exist_ok=True)
    techmatch("db", "upgrade", env=env, cwd=workdir)
    if dataset is not None:
        techmatch("load", str(dataset), env=env, cwd=workdir)
    output = techmatch("keys", "create", "--tenant", "default", "--scopes", "admin", env=env, cwd=workdir)
    return output.strip().splitlines()[-1].strip()


@dataclass
class LiveServer:
    """`techmatch serve` on a free loopback port; stopped gracefully or killed with SIGKILL."""

    workdir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        log = (self.workdir / f"server-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [str(TECHMATCH), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def wait_ready(self, *, timeout: float = 60, key: str | None = None) -> dict[str, object]:
        """Polls /readyz until 200; returns its body (counts with `key`). Raises if the process dies or time
        runs out."""

        def gone() -> str | None:
            running = self.process is not None and self.process.poll() is None
            return None if running else self.log_tail()

        return poll_ready(self.url, timeout=timeout, gone=gone, key=key)

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, nothing is flushed or saved."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)
            self.process = None

    def log_tail(self) -> str:
        path = self.workdir / f"server-{self.starts}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""
