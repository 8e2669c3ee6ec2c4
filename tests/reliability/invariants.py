"""What a crash must never leave behind, checked straight on the SQLite file and the saved index."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

# A decision's action and the match status it leaves (the review service's rule).
STATUS_AFTER = {"approve": "approved", "approve_edited": "approved", "reject": "rejected", "reopen": "proposed"}


@dataclass
class Ledger:
    """Writes the server acknowledged with a 2xx; each must survive any crash that follows."""

    needs: dict[int, str] = field(default_factory=dict)  # id -> title
    computed: set[int] = field(default_factory=set)  # need ids whose matches were computed
    decisions: dict[int, tuple[int, str]] = field(default_factory=dict)  # decision id -> (match id, action)
    technologies: dict[int, str] = field(default_factory=dict)  # id -> title

    def merge(self, other: Ledger) -> None:
        self.needs.update(other.needs)
        self.computed |= other.computed
        self.decisions.update(other.decisions)
        self.technologies.update(other.technologies)

    @property
    def size(self) -> int:
        return len(self.needs) + len(self.computed) + len(self.decisions) + len(self.technologies)


def connect(database: Path) -> sqlite3.Connection:
    # Opening the file replays a WAL left behind by a killed process, as the server would.
    return sqlite3.connect(f"file:{database}?mode=rw", uri=True)


def check_database(database: Path, ledger: Ledger) -> list[str]:
    """Problems found: integrity, foreign keys, lost acknowledged writes, half-written state."""
    problems: list[str] = []
    with connect(database) as db:
        integrity = [row[0] for row in db.execute("PRAGMA integrity_check")]
        if integrity != ["ok"]:
            problems.append(f"integrity_check: {integrity[:5]}")
        dangling = db.execute("PRAGMA foreign_key_check").fetchall()
        if dangling:
            problems.append(f"foreign_key_check: {dangling[:5]}")

        titles = dict(db.execute("SELECT id, title FROM needs").fetchall())
        for need_id, title in ledger.needs.items():
            if titles.get(need_id) != title:
                problems.append(f"acknowledged need {need_id} {title!r} is {titles.get(need_id)!r}")
        technologies = dict(db.execute("SELECT id, title FROM technologies").fetchall())
        for technology_id, title in ledger.technologies.items():
            if technologies.get(technology_id) != title:
                problems.append(f"acknowledged technology {technology_id} is {technologies.get(technology_id)!r}")
        with_matches = {row[0] for row in db.execute("SELECT DISTINCT need_id FROM matches")}
        for need_id in ledger.computed - with_matches:
            problems.append(f"need {need_id}: acknowledged matches are gone")
        actions = dict(db.execute("SELECT id, action FROM review_decisions").fetchall())
        for decision_id, (match_id, action) in ledger.decisions.items():
            if actions.get(decision_id) != action:
                found = actions.get(decision_id)
                problems.append(f"acknowledged decision {decision_id} on match {match_id} is {found!r}")

        # A decision updates the match and appends its audit row in one transaction.
        for match_id, status, version, decided, last_action in db.execute(
            "SELECT m.id, m.status, m.review_version, "
            "(SELECT COUNT(*) FROM review_decisions d WHERE d.match_id = m.id), "
            "(SELECT d.action FROM review_decisions d WHERE d.match_id = m.id ORDER BY d.id DESC LIMIT 1) "
            "FROM matches m"
        ):
            if decided != version:
                problems.append(f"match {match_id}: review version {version} but {decided} decisions recorded")
            if last_action is not None and STATUS_AFTER.get(last_action) != status:
                problems.append(f"match {match_id}: status {status} after a {last_action} decision")
    return problems


def catalogue(database: Path) -> tuple[set[int], set[int], int]:
    """(technology ids, need ids, catalogue version) as the database holds them."""
    with connect(database) as db:
        technologies = {row[0] for row in db.execute("SELECT id FROM technologies")}
        needs = {row[0] for row in db.execute("SELECT id FROM needs")}
        version = db.execute("SELECT COALESCE(MAX(version), 0) FROM catalogue_state").fetchone()[0]
    return technologies, needs, int(version)


def saved_index(index_dir: Path, name: str) -> tuple[set[int], int]:
    """(ids, catalogue version) of a saved index side, read with FAISS and its metadata file."""
    meta = json.loads((index_dir / f"{name}.meta.json").read_text("utf-8"))
    index = faiss.deserialize_index(np.fromfile(index_dir / f"{name}.faiss", dtype=np.uint8))
    ids = faiss.vector_to_array(index.id_map) if hasattr(index, "id_map") else np.zeros(0, dtype=np.int64)
    return set(ids.astype(np.int64).tolist()), int(meta["catalogue_version"])


def check_index(database: Path, index_dir: Path) -> list[str]:
    """The saved index (written by the start-up that just finished) holds what the database holds."""
    technologies, needs, version = catalogue(database)
    problems = []
    for name, expected in (("technologies", technologies), ("needs", needs)):
        ids, index_version = saved_index(index_dir, name)
        if ids != expected:
            problems.append(f"{name} index differs: {len(ids - expected)} extra, {len(expected - ids)} missing")
        if index_version != version:
            problems.append(f"{name} index is of catalogue version {index_version}, database {version}")
    return problems
