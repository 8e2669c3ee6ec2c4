"""Several processes on one database: writer throughput with and without the change log, and replica lag.

Usage:
  python scripts/bench_replicas.py writers --database-url URL [--writers 3] [--writes 200] [--rounds 3]
  python scripts/bench_replicas.py lag --database-url URL [--writes 300] [--rate 50]
Each prints one JSON line. The database must be empty and writable (a throw-away SQLite file or a
PostgreSQL test database); the hashing encoder is used, so what is measured is the write path itself.

writers: WRITERS threads change needs' descriptions (a new text, so a new stored vector each time)
through the catalogue service, as PATCH /api/v1/needs/{id} does, each write its own transaction,
with a follower in the process as a server has. With the log is the code as it is; without is the
same write with `record_change` replaced by what the code did before the log (bump the catalogue
version, apply to this process's index after commit). Rounds alternate; the best of each is kept.

lag: two `techmatch serve` processes on the database (each its own data dir: two machines); one
writer posts needs to the first at a fixed rate; the second's follower reports, for each change it
applied, the time from the change's commit to its application there (GET /api/v1/admin/replication).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import app.catalogue.service as catalogue  # noqa: E402
from app.catalogue.schemas import NeedUpdate  # noqa: E402
from app.core.after_commit import after_commit  # noqa: E402
from app.core.database import create_db_engine, create_session_factory, unit_of_work  # noqa: E402
from app.core.migrations import upgrade  # noqa: E402
from app.core.settings import Settings  # noqa: E402
from app.indexing.service import sync_index  # noqa: E402
from app.indexing.state import CatalogueStateRepository  # noqa: E402
from app.models import ChangeKind  # noqa: E402
from app.replication.service import FOLLOWER_KEY, Follower  # noqa: E402
from matching.encoders.base import HASHING_MODEL  # noqa: E402
from matching.encoders.factory import load_encoder  # noqa: E402
from matching.evaluation.datasets import load_dataset as read_dataset  # noqa: E402
from matching.matcher import Matcher  # noqa: E402
from scripts.liveserver import LiveServer, prepare, server_env  # noqa: E402

MINI = ROOT / "tests" / "fixtures" / "mini"
REAL_RECORD_CHANGE = catalogue.record_change


def _without_log(
    session: Any,
    *,
    kind: ChangeKind = ChangeKind.catalogue,
    technologies: Collection[int] = (),
    needs: Collection[int] = (),
    apply_here: Callable[[], None] | None = None,
) -> int:
    """The write path before the change log: bump the version, apply here after commit."""
    version = CatalogueStateRepository(session).bump()
    if apply_here is not None:
        after_commit(session, apply_here)
    return version


def _extra_needs(factory: Any, count: int) -> list[int]:
    """`count` needs of the mini data set's first company, to spread writers over distinct rows."""
    from app.models import Company, Need

    with unit_of_work(factory) as session:
        company = session.query(Company).order_by(Company.id).first()
        assert company is not None
        rows = [
            Need(company_id=company.id, title=f"Bench need {n}", description="Sorting parts.") for n in range(count)
        ]
        session.add_all(rows)
        session.flush()
        ids = [row.id for row in rows]
        catalogue.record_change(session, needs=ids)
    return ids


def writers(database_url: str, *, threads: int, writes: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_db_engine(database_url)
        upgrade(engine)
        factory = create_session_factory(engine)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=database_url,
            data_dir=Path(tmp),
            model=HASHING_MODEL,
        )
        matcher = Matcher(load_encoder(HASHING_MODEL))
        from app.catalogue.loader import load_dataset

        load_dataset(factory, dataset=read_dataset(MINI), matcher=matcher, index_dir=settings.index_dir)
        need_ids = _extra_needs(factory, threads)
        with unit_of_work(factory) as session:
            result = sync_index(session, matcher=matcher, index_dir=settings.index_dir)
        follower = Follower(factory, matcher=matcher, settings=settings, applied=result.catalogue_version)
        follower.catch_up()
        factory.configure(info={FOLLOWER_KEY: follower})
        counter = iter(range(10**9))

        def one_round() -> float:
            def work(need_id: int) -> None:
                for _ in range(writes):
                    number = next(counter)
                    with unit_of_work(factory) as session:
                        catalogue.update_need(
                            session,
                            matcher=matcher,
                            need_id=need_id,
                            data=NeedUpdate(description=f"Sorting part {number} by hand."),
                            settings=settings,
                        )

            workers = [threading.Thread(target=work, args=(need_id,)) for need_id in need_ids]
            started = time.perf_counter()
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            return threads * writes / (time.perf_counter() - started)

        with_log: list[float] = []
        without_log: list[float] = []
        one_round()  # warm-up
        for _ in range(rounds):
            catalogue.record_change = REAL_RECORD_CHANGE  # type: ignore[assignment]
            with_log.append(one_round())
            catalogue.record_change = _without_log  # type: ignore[assignment]
            without_log.append(one_round())
            # Those writes were applied here directly and left no log rows: the follower starts again
            # from where they left the database, as if it had applied them.
            with unit_of_work(factory) as session:
                follower.applied = CatalogueStateRepository(session).version()
        catalogue.record_change = REAL_RECORD_CHANGE  # type: ignore[assignment]
        engine.dispose()
    return {
        "database": engine.dialect.name,
        "writers": threads,
        "writes_per_writer": writes,
        "rounds": rounds,
        "with_log_writes_per_s": [round(v, 1) for v in with_log],
        "without_log_writes_per_s": [round(v, 1) for v in without_log],
        "ratio_with_over_without": round(max(with_log) / max(without_log), 3),
    }


def lag(database_url: str, *, writes: int, rate: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        env = server_env(workdir)
        env["TECHMATCH_DATABASE_URL"] = database_url
        key = prepare(workdir, dataset=MINI, env=env)
        writer = LiveServer(workdir, env)
        follower = LiveServer(workdir, {**env, "TECHMATCH_DATA_DIR": str(workdir / "second")})
        headers = {"Authorization": f"Bearer {key}"}
        for server in (writer, follower):
            server.start()
        try:
            for server in (writer, follower):
                server.wait_ready(timeout=120)
            with httpx.Client(base_url=writer.url, headers=headers, timeout=30) as client:
                company_id = client.get("/api/v1/companies").json()["items"][0]["id"]
                started = time.perf_counter()
                for number in range(writes):
                    body = {"company_id": company_id, "title": f"Need {number}", "description": f"Part {number}."}
                    assert client.post("/api/v1/needs", json=body).status_code == 201
                    pause = (number + 1) / rate - (time.perf_counter() - started)
                    if pause > 0:
                        time.sleep(pause)
            deadline = time.monotonic() + 30
            with httpx.Client(base_url=follower.url, headers=headers, timeout=30) as client:
                while True:
                    status = client.get("/api/v1/admin/replication").json()
                    if status["lag"]["versions"] == 0 or time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
        finally:
            for server in (writer, follower):
                server.stop()
    return {
        "database": database_url.split(":", 1)[0].split("+", 1)[0],
        "writes": writes,
        "rate_per_s": rate,
        "listening": status["listening"],
        "applied_changes": status["applied_changes"],
        "full_syncs": status["full_syncs"],
        "lag_p50_ms": status["lag_p50_ms"],
        "lag_max_ms": status["lag_max_ms"],
        "caught_up": status["lag"]["versions"] == 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("case", choices=("writers", "lag"))
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument("--writes", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=50.0, help="lag: writes per second")
    args = parser.parse_args()
    if args.case == "writers":
        result = writers(args.database_url, threads=args.writers, writes=args.writes or 100, rounds=args.rounds)
    else:
        result = lag(args.database_url, writes=args.writes or 300, rate=args.rate)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
