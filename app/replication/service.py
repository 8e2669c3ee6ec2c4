"""Every serving process in step with the database: a change log written in the writer's transaction, followed.

A write bumps the catalogue version and logs the ids it touched in the same transaction (`record_change`).
The version row's lock orders the writers, so the log's versions are gap-free and become visible in
order. Each serving process has a `Follower` that applies the log to its in-memory index, reading each
touched row as it is now and its stored vector (nothing is encoded); it is woken by PostgreSQL's
NOTIFY (`app/replication/listener.py`) and polls in any case. The process that wrote applies its
change before it answers (read-your-writes).
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from app.catalogue.records import all_need_records, all_technology_records, need_records, technology_records
from app.core.database import unit_of_work
from app.core.settings import Settings
from app.indexing.repository import EmbeddingStore
from app.indexing.service import RebuildResult, SyncResult
from app.indexing.state import CatalogueStateRepository
from app.learning.service import load_ranking
from app.models import ChangeKind, utcnow
from app.replication.log import FOLLOWER_KEY, record_change
from app.replication.repository import ChangeLogRepository
from app.replication.snapshots import index_lock, save_snapshot
from matching.encoders.base import Encoder
from matching.errors import IndexMismatchError
from matching.matcher import Matcher
from matching.retrieval.texts import need_text, technology_text, text_hash
from matching.types import Need, Technology

logger = logging.getLogger(__name__)

__all__ = ["FOLLOWER_KEY", "Follower", "record_change", "resume_index"]

# A change touching more ids than this is logged as a resync is in app/replication/log.py.
# Changes applied in one pass (one transaction).
BATCH = 500
# How long a writer's request waits for its process's follower (busy with a full sync, say) before
# answering anyway; the follower thread applies the change moments later.
WRITE_WAIT_S = 5.0
PRUNE_EVERY_S = 3600.0


def process_name() -> str:
    """This process as jobs and the replication status name it: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


# -- reading what changed --------------------------------------------------------------------------------------


def stored_vectors(session: Session, *, encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
    """The stored vectors of `texts` under the encoder's model, row-aligned.

    A writer stores them in its transaction, so a follower finds them. One that is missing (a process
    on another model wrote it) is encoded here and not stored: a row erased meanwhile must not get a
    vector back in the table.
    """
    out = np.empty((len(texts), encoder.dimension), dtype=np.float32)
    if not texts:
        return out
    hashes = [text_hash(text) for text in texts]
    cached = EmbeddingStore(session).vectors(model=encoder.name, text_hashes=set(hashes))
    missing: list[int] = []
    for row, digest in enumerate(hashes):
        found = cached.get(digest)
        if found is not None and found[0] == encoder.dimension:
            out[row] = np.frombuffer(found[1], dtype="<f4")
        else:
            missing.append(row)
    if missing:
        logger.warning(
            "%d changed texts have no stored vector of %s: encoded here (does every process run the same model?)",
            len(missing),
            encoder.name,
        )
        out[missing] = encoder.encode([texts[row] for row in missing], kind="passage")
    return out


def apply_ids(session: Session, *, matcher: Matcher, technologies: Collection[int], needs: Collection[int]) -> None:
    """Make the index hold these ids as the database holds them now: upserted from stored vectors, or removed."""
    if technologies:
        found_technologies = technology_records(session, technologies)
        vectors = stored_vectors(
            session, encoder=matcher.encoder, texts=[technology_text(t) for t in found_technologies]
        )
        gone = set(technologies) - {t.id for t in found_technologies}
        with matcher.catalogue.lock:
            matcher.catalogue.remove_technologies(gone)
            if found_technologies:
                matcher.catalogue.upsert_technologies(found_technologies, vectors)
    if needs:
        found_needs = need_records(session, needs)
        vectors = stored_vectors(session, encoder=matcher.encoder, texts=[need_text(n) for n in found_needs])
        gone = set(needs) - {n.id for n in found_needs}
        with matcher.catalogue.lock:
            matcher.catalogue.remove_needs(gone)
            if found_needs:
                matcher.catalogue.upsert_needs(found_needs, vectors)


def rebuild_from_database(session: Session, *, matcher: Matcher) -> int:
    """Rebuild the whole index from the database's rows and stored vectors; returns the version it reflects."""
    # The version first: rows read after it are at least that new.
    version = CatalogueStateRepository(session).version()
    technologies = all_technology_records(session)
    needs = all_need_records(session)
    matcher.catalogue.build(
        technologies=technologies,
        technology_vectors=stored_vectors(
            session, encoder=matcher.encoder, texts=[technology_text(t) for t in technologies]
        ),
        needs=needs,
        need_vectors=stored_vectors(session, encoder=matcher.encoder, texts=[need_text(n) for n in needs]),
    )
    return version


# -- start-up ----------------------------------------------------------------------------------------------------


def resume_index(session: Session, *, matcher: Matcher, index_dir: Path) -> SyncResult | None:
    """Load a saved index older than the database when the log still holds every change since it.

    The ids those changes touched are left out of the loaded index; the follower then applies the
    changes from the saved version on. None when there is nothing to resume from (no saved index, another
    model, the same version as the database, or a log pruned past it): the caller syncs as before.
    """
    saved = matcher.catalogue.saved_meta(index_dir)
    current = CatalogueStateRepository(session).version()
    if saved is None or saved.catalogue_version >= current:
        return None
    since = saved.catalogue_version
    changes = ChangeLogRepository(session).between(since + 1, current)
    if len(changes) != current - since or any(c.kind is ChangeKind.resync for c in changes):
        logger.info("the change log no longer holds every change since the saved index (version %d)", since)
        return None
    changed_technologies = {int(i) for c in changes for i in c.technology_ids}
    changed_needs = {int(i) for c in changes for i in c.need_ids}
    technologies = [t for t in all_technology_records(session) if t.id not in changed_technologies]
    needs = [n for n in all_need_records(session) if n.id not in changed_needs]
    try:
        matcher.catalogue.load(
            index_dir,
            technologies=technologies,
            needs=needs,
            catalogue_version=since,
            changed_technologies=changed_technologies,
            changed_needs=changed_needs,
        )
    except IndexMismatchError as exc:
        logger.info("cannot resume from the saved index (version %d): %s", since, exc)
        return None
    reason = f"resumed from version {since}: {current - since} changes to apply"
    return SyncResult("loaded", reason, len(technologies), len(needs), since)


# -- following ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lag:
    versions: int
    seconds: float


@dataclass(frozen=True, slots=True)
class ReplicationStatus:
    process: str
    applied_version: int
    database_version: int
    lag: Lag
    listening: bool
    applied_changes: int
    full_syncs: int
    lag_p50_ms: float | None
    lag_max_ms: float | None
    index_digest: str


class Follower:
    """Keeps one process's index at the database's catalogue version by applying the change log.

    `applied` is the version the in-memory index reflects: every change up to it is in (rows touched
    later may already be newer, which applying their changes again settles). One pass at a time, under
    `_lock`; the background thread runs passes when woken (a notification, a local write) or every
    `follow_poll_seconds`.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        matcher: Matcher,
        settings: Settings,
        applied: int,
    ) -> None:
        self.factory = factory
        self.matcher = matcher
        self.settings = settings
        self.applied = applied
        self.process = process_name()
        self.applied_changes = 0
        self.full_syncs = 0
        self.listening = False
        # Seconds from a change's commit (its log row's time) to its application here, the latest ones.
        self.lags: deque[float] = deque(maxlen=1000)
        self._lock = threading.Lock()
        self._behind_since: float | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._listener: Any = None
        self._last_prune = 0.0

    # -- running

    def start(self) -> None:
        """Follow in a background thread (and listen for notifications on PostgreSQL)."""
        self._thread = threading.Thread(target=self._run, name="techmatch-follower", daemon=True)
        self._thread.start()
        engine = self.factory.kw.get("bind")
        if engine is not None and engine.dialect.name == "postgresql":
            from app.replication.listener import ChangeListener  # psycopg only where PostgreSQL is used

            self._listener = ChangeListener(engine.url, follower=self)
            self._listener.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._listener is not None:
            self._listener.stop()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.catch_up()
                self._prune_now_and_then()
            except Exception:  # a database hiccup must not end the follower; the next pass retries
                logger.exception("following the change log failed")
            self._wake.wait(self.settings.follow_poll_seconds)
            self._wake.clear()

    def after_write(self, version: int, apply_here: Callable[[], None] | None = None) -> None:
        """Read-your-writes: run in the writer's request after its commit of `version`, before the response.

        When every change before it is applied, `apply_here` applies this one from what the writer holds
        (its records and the vectors it stored), with no read of the database; else the log is followed
        up to it. A concurrent pass that already covered it makes this a no-op.
        """
        if not self._lock.acquire(timeout=WRITE_WAIT_S):
            self.wake()
            return
        try:
            if self.applied >= version:
                return
            if apply_here is not None and self.applied == version - 1:
                apply_here()
                self.applied = version
                self.applied_changes += 1
                return
            while self._pass():
                pass
        except Exception:
            logger.exception("applying a local write failed; the follower thread retries")
            self.wake()
        finally:
            self._lock.release()

    # -- applying

    def catch_up(self, *, wait: float | None = None) -> int:
        """Apply every committed change not applied yet; returns the version now applied.

        `wait`: give up (and leave the work to the thread) when another pass holds the lock that long.
        """
        if not self._lock.acquire(timeout=-1 if wait is None else wait):
            self.wake()
            return self.applied
        try:
            while self._pass():
                pass
            return self.applied
        finally:
            self._lock.release()

    def _pass(self) -> bool:
        """One transaction's worth of changes; False when there is nothing more to do."""
        with unit_of_work(self.factory) as session:
            changes = ChangeLogRepository(session).after(self.applied, limit=BATCH)
            if not changes or changes[0].version != self.applied + 1:
                # Nothing new in the log; or the log starts later (pruned past this index); or the database
                # went back (a restore). Its version tells which.
                current = CatalogueStateRepository(session).version()
                if current == self.applied:
                    self._behind_since = None
                    return False
                if self._behind_since is None:
                    self._behind_since = time.monotonic()
                if current < self.applied:
                    logger.warning(
                        "the database's catalogue version %d is below this index's %d (a restore?): full sync",
                        current,
                        self.applied,
                    )
                else:
                    # Committed between the two reads (each statement reads its own snapshot)? Then the log
                    # has the next change now; else it was pruned past this index.
                    again = ChangeLogRepository(session).after(self.applied, limit=1)
                    if again and again[0].version == self.applied + 1:
                        return True
                    logger.warning("the change log was pruned past version %d: full sync", self.applied)
                self._full_sync(session)
                return True
            if self._behind_since is None:
                self._behind_since = time.monotonic()
            run = [changes[0]]
            for change in changes[1:]:
                if change.version != run[-1].version + 1:
                    break
                run.append(change)
            if any(change.kind is ChangeKind.resync for change in run):
                self._full_sync(session)
                return True
            kinds = {change.kind for change in run}
            if ChangeKind.erasure in kinds:
                # The erased needs and every cached vector of their texts, before anything else reads them.
                self.matcher.forget_needs({int(i) for c in run if c.kind is ChangeKind.erasure for i in c.need_ids})
            apply_ids(
                session,
                matcher=self.matcher,
                technologies={int(i) for c in run for i in c.technology_ids},
                needs={int(i) for c in run for i in c.need_ids},
            )
            if kinds & {ChangeKind.ranking, ChangeKind.erasure}:
                # An erasure also drops the erased needs from the learned ranking's neighbour votes.
                self._load_ranking(session)
            self.applied = run[-1].version
            self.applied_changes += len(run)
            now = utcnow()
            self.lags.extend((now - change.created_at).total_seconds() for change in run)
            if ChangeKind.erasure in kinds:
                self._save()  # no copy of the erased needs may stay in the saved files
            # A full batch may have more behind it; a shorter one was everything committed.
            if len(changes) < BATCH:
                self._behind_since = None
                return False
            return True

    def _full_sync(self, session: Session) -> None:
        started = time.perf_counter()
        self.applied = rebuild_from_database(session, matcher=self.matcher)
        self._load_ranking(session)
        self.full_syncs += 1
        # The saved files may hold needs erased by a change this process never saw.
        self._save()
        logger.info("full sync to version %d in %.2f s", self.applied, time.perf_counter() - started)

    def _load_ranking(self, session: Session) -> None:
        load_ranking(
            session, matcher=self.matcher, labels_dir=self.settings.labels_dir, cache_dir=self.settings.index_dir
        )

    def _save(self) -> bool:
        try:
            return save_snapshot(self.matcher, self.settings.index_dir, version=self.applied)
        except OSError:
            # The saved files then lag behind; the next start catches up from them through the log.
            logger.exception("could not save the index at version %d", self.applied)
            return False

    def _prune_now_and_then(self) -> None:
        if time.monotonic() - self._last_prune < PRUNE_EVERY_S:
            return
        self._last_prune = time.monotonic()
        cutoff = utcnow() - timedelta(hours=self.settings.change_log_retention_hours)
        with unit_of_work(self.factory) as session:
            pruned = ChangeLogRepository(session).prune(before=cutoff)
        if pruned:
            logger.info("pruned %d changes older than %s from the change log", pruned, cutoff.isoformat())

    # -- operator actions

    def save(self) -> bool:
        """Save the index stamped with the version it reflects (shutdown)."""
        with self._lock:
            return self._save()

    def rebuild(self) -> RebuildResult:
        """Rebuild from the database while serving (the admin route), then catch up and save."""
        started = time.perf_counter()
        with self._lock:
            with unit_of_work(self.factory) as session:
                self._full_sync(session)
            saved = self.matcher.catalogue.saved_meta(self.settings.index_dir)
        self.catch_up()
        return RebuildResult(
            self.matcher.catalogue.technology_count,
            self.matcher.catalogue.need_count,
            self.applied,
            1,
            saved is not None and saved.catalogue_version >= self.applied,
            time.perf_counter() - started,
        )

    # -- reporting

    def lag(self, database_version: int) -> Lag:
        behind = database_version - self.applied
        if behind <= 0:
            return Lag(0, 0.0)
        if self._behind_since is None:
            self._behind_since = time.monotonic()
        return Lag(behind, round(time.monotonic() - self._behind_since, 3))

    def quiet(self) -> _Quiet:
        """Holds off passes while a caller compares the index with the database (readiness)."""
        return _Quiet(self._lock)

    def status(self, session: Session) -> ReplicationStatus:
        current = CatalogueStateRepository(session).version()
        lags = sorted(self.lags)
        digest = index_digest(self.matcher)
        return ReplicationStatus(
            process=self.process,
            applied_version=self.applied,
            database_version=current,
            lag=self.lag(current),
            listening=self.listening,
            applied_changes=self.applied_changes,
            full_syncs=self.full_syncs,
            lag_p50_ms=round(lags[len(lags) // 2] * 1000, 2) if lags else None,
            lag_max_ms=round(lags[-1] * 1000, 2) if lags else None,
            index_digest=digest,
        )


class _Quiet:
    """A non-blocking hold on the follower's lock: `held` says whether no pass is running meanwhile."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self.held = False

    def __enter__(self) -> _Quiet:
        self.held = self._lock.acquire(blocking=False)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.held:
            self._lock.release()


def records_digest(technologies: Sequence[Technology], needs: Sequence[Need]) -> str:
    """One digest of every record the engine holds (ids, texts and the fields it ranks by), to compare
    processes with each other and with the database."""
    digest = hashlib.sha256()
    for record in sorted(technologies, key=lambda t: t.id):
        digest.update(repr(record).encode())
    digest.update(b"|")
    for need in sorted(needs, key=lambda n: n.id):
        digest.update(repr(need).encode())
    return digest.hexdigest()


def index_digest(matcher: Matcher) -> str:
    with matcher.catalogue.lock:
        return records_digest(
            list(matcher.catalogue.technologies.records.values()), list(matcher.catalogue.needs.records.values())
        )


def database_digest(session: Session) -> str:
    return records_digest(all_technology_records(session), all_need_records(session))


def open_index(session: Session, *, matcher: Matcher, index_dir: Path, sync: Callable[[], SyncResult]) -> SyncResult:
    """The start-up of a serving process's index, one process of a machine at a time: resume from the saved
    index through the log when possible, else `sync` (load it when current, else rebuild and save)."""
    with index_lock(index_dir):
        return resume_index(session, matcher=matcher, index_dir=index_dir) or sync()
