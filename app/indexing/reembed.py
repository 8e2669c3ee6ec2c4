"""Switching the model: each stored text encoded once by the new model (progress bar), then the index rebuilt.

The embeddings table is keyed by (model, text hash), so the old model's vectors stay where they are and
switching back costs nothing. The saved index carries its model in its meta; one built by another model
is refused on load (matching/index.py), so an index never holds vectors of two models.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.orm import Session

from app.indexing.service import SyncResult, sync_index
from matching.matcher import Matcher


@dataclass
class EncodeProgress:
    """Callbacks for sync_index: a rich bar that appears only when something has to be encoded."""

    description: str
    console: Console | None = None
    encoded: int = 0
    total: int = 0
    _progress: Progress | None = None
    _task: int | None = None

    def on_missing(self, count: int) -> None:
        self.total = count
        if count and self._progress is None:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=self.console or Console(file=sys.stderr),
            )
            self._progress.start()
            self._task = self._progress.add_task(self.description, total=count)

    def on_encoded(self, count: int) -> None:
        self.encoded += count
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, count)  # type: ignore[arg-type]

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


@contextmanager
def encode_progress(matcher: Matcher, *, console: Console | None = None) -> Iterator[EncodeProgress]:
    progress = EncodeProgress(description=f"embedding with {matcher.encoder.name}", console=console)
    try:
        yield progress
    finally:
        progress.close()


@dataclass(frozen=True, slots=True)
class ReembedResult:
    sync: SyncResult
    model: str
    encoded: int


def reembed(
    session: Session,
    *,
    matcher: Matcher,
    index_dir: Path,
    batch_size: int = 64,
    console: Console | None = None,
) -> ReembedResult:
    """Bring the index to `matcher`'s model: encode the texts this model has no vector for, rebuild, save.

    Run at start-up (the service) and by `techmatch reembed`; a second run finds everything cached
    and the saved index current, and encodes nothing.
    """
    with encode_progress(matcher, console=console) as progress:
        result = sync_index(
            session,
            matcher=matcher,
            index_dir=index_dir,
            batch_size=batch_size,
            on_encoded=progress.on_encoded,
            on_missing=progress.on_missing,
        )
    return ReembedResult(sync=result, model=matcher.encoder.name, encoded=progress.encoded)
