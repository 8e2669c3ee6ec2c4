"""The saved index shared by the processes of one machine: stamped with the version it reflects, written under a lock.

Every process of a machine saves to the same directory (`TECHMATCH_DATA_DIR/index`). A save holds an
exclusive lock on a file beside it, so the files of one save are never mixed with another's, and never
replaces a snapshot with an older one. Opening the index at start-up holds the same lock, so the first
process of a machine builds and saves and the others load what it saved.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from matching.matcher import Matcher

logger = logging.getLogger(__name__)


def lock_path(index_dir: Path) -> Path:
    # Beside the folder, not in it: a restore removes the folder, and tests walk its files.
    return index_dir.parent / f"{index_dir.name}.lock"


@contextmanager
def index_lock(index_dir: Path) -> Iterator[None]:
    """Held while one process of this machine opens or saves the index in `index_dir`."""
    path = lock_path(index_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def save_snapshot(matcher: Matcher, index_dir: Path, *, version: int) -> bool:
    """Save the in-memory index as reflecting every change up to `version`; False (nothing written) when
    another process of this machine already saved a later one (which reflects whatever this one would)."""
    with index_lock(index_dir):
        saved = matcher.catalogue.saved_meta(index_dir)
        if saved is not None and saved.catalogue_version > version:
            logger.info(
                "index not saved at version %d: a snapshot of version %d is there", version, saved.catalogue_version
            )
            return False
        matcher.catalogue.save(index_dir, catalogue_version=version)
        # The cached sentence and query vectors beside it: a restart need not encode them again, and an
        # erasure's save leaves none of the erased texts' vectors on disk.
        matcher.save_vector_caches(index_dir)
        return True
