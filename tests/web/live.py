"""A real techmatch server for browser tests and screenshots: seeded database, uvicorn on a free port."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.catalogue.loader import load_dataset
from app.core.database import create_db_engine, create_session_factory, unit_of_work
from app.core.migrations import ensure_schema
from app.core.settings import Settings
from app.keys.service import create_key
from app.models import Role
from app.people.service import create_curator, create_person
from matching.encoders.base import HASHING_MODEL
from matching.encoders.factory import load_encoder
from matching.evaluation.datasets import load_dataset as read_dataset
from matching.matcher import Matcher
from scripts.liveserver import free_port, poll_ready
from tests.app.support import HASHING_THRESHOLD

CHROMIUM = Path("/usr/bin/chromium")
CURATOR = "mette"
FACILITATOR = "frida"
PASSWORD = "correct horse battery"
START_TIMEOUT_S = 120


@dataclass(frozen=True, slots=True)
class LiveSite:
    base_url: str
    api_key: str
    sme_key: str
    username: str
    password: str
    log: Path
    database_url: str = ""  # the server's database, for tests that prepare what a command would

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {self.api_key}"}, timeout=60)


def _seed(settings: Settings, dataset: Path) -> tuple[str, str]:
    """Loads the data set, creates the curator and facilitator accounts, an admin key and an SME website's key."""
    engine = create_db_engine(settings.database_url)
    try:
        ensure_schema(engine)
        factory = create_session_factory(engine)
        load_dataset(
            factory,
            dataset=read_dataset(dataset),
            matcher=Matcher(load_encoder(settings.model)),
            index_dir=settings.index_dir,
        )
        with unit_of_work(factory) as session:
            create_curator(session, username=CURATOR, password=PASSWORD, tenant="default")
            create_person(session, username=FACILITATOR, password=PASSWORD, role=Role.facilitator, tenant="default")
            # Seeding computes every need's matches in a burst; the default rate limit would refuse it.
            admin = create_key(
                session, tenant="default", scopes=["admin"], name="browser tests", rate_limit="100000/minute"
            )
            sme = create_key(session, tenant="default", scopes=["needs:write", "matches:read"], name="SME site")
            return admin.secret, sme.secret
    finally:
        engine.dispose()


def _wait_ready(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    def gone() -> str | None:
        return None if process.poll() is None else f"status {process.returncode}:\n{log.read_text()[-4000:]}"

    poll_ready(base_url, timeout=START_TIMEOUT_S, gone=gone)


@contextmanager
def live_site(
    workdir: Path,
    *,
    dataset: Path,
    k: int = 5,
    model: str = HASHING_MODEL,
    threshold: float = HASHING_THRESHOLD,
) -> Iterator[LiveSite]:
    """A seeded server on 127.0.0.1 with k proposed matches computed for every need; stopped on exit.

    The hashing encoder's honest scores sit below the match threshold, so by default it shows them all."""
    workdir.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{workdir / 'techmatch.db'}"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        data_dir=workdir / "var",
        model=model,
        match_threshold=threshold,
    )
    api_key, sme_key = _seed(settings, dataset)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {name: value for name, value in os.environ.items() if not name.startswith("TECHMATCH_")}
    env |= {
        "TECHMATCH_DATABASE_URL": database_url,
        "TECHMATCH_DATA_DIR": str(workdir / "var"),
        "TECHMATCH_MODEL": model,
        "TECHMATCH_MATCH_THRESHOLD": str(threshold),
        "HF_HUB_OFFLINE": "1",
    }
    log = workdir / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from app.cli import main; main()",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=workdir,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(base_url, process, log)
        site = LiveSite(
            base_url=base_url,
            api_key=api_key,
            sme_key=sme_key,
            username=CURATOR,
            password=PASSWORD,
            log=log,
            database_url=database_url,
        )
        with site.api() as api:
            needs = api.get("/api/v1/needs", params={"limit": 100}).json()
            offset = 0
            while offset < needs["total"]:
                page = api.get("/api/v1/needs", params={"limit": 100, "offset": offset}).json()["items"]
                for need in page:
                    api.post(f"/api/v1/needs/{need['id']}/matches", params={"k": k}).raise_for_status()
                offset += len(page)
        yield site
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
