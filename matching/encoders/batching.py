"""Micro-batching: concurrent small encode calls are coalesced into one model call by a worker thread."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from matching.encoders.base import Encoder, TextKind, reuses_passage_vector
from matching.encoders.sentence_transformers import set_compute_threads
from matching.errors import EncoderError

DEFAULT_MAX_BATCH = 64
DEFAULT_MAX_WAIT_S = 0.003


@dataclass(slots=True)
class _Request:
    texts: list[str]
    kind: TextKind
    future: Future[np.ndarray] = field(default_factory=Future)


_STOP = object()


class MicroBatchingEncoder:
    """An `Encoder` that serves small requests from many threads with few model calls.

    `threads` > 0 sets the worker's PyTorch/OpenMP threads (per thread, so bulk encodes in other
    threads keep every core). One thread served 32 concurrent clients faster than two on the two-core
    machine: short query batches gain little from a second thread, and it leaves a core to the
    request threads' Python (README "Speed and scale").

    Callers block on their own request; one worker thread takes the first waiting request, gathers
    whatever else arrives within `max_wait_s` (up to `max_batch` texts), encodes each kind in one
    call and hands every caller its rows. A transformer's cost per text falls steeply with batch
    size on a CPU, so at concurrency the model runs fewer, fuller batches. Requests larger than
    `max_batch` (bulk loading) go straight to the wrapped encoder.
    """

    def __init__(
        self,
        inner: Encoder,
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_wait_s: float = DEFAULT_MAX_WAIT_S,
        threads: int = 0,
    ) -> None:
        if max_batch < 1 or max_wait_s < 0 or threads < 0:
            raise ValueError("max_batch must be >= 1, max_wait_s >= 0 and threads >= 0")
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.symmetric = inner.symmetric
        self.query_equals_passage = partial(reuses_passage_vector, inner)
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.threads = threads
        self.model_calls = 0
        self._queue: queue.SimpleQueue[_Request | object] = queue.SimpleQueue()
        self._closed = False
        self._close_lock = threading.Lock()
        self._worker = threading.Thread(target=self._run, name="micro-batching-encoder", daemon=True)
        self._worker.start()

    def encode(
        self,
        texts: Sequence[str],
        *,
        kind: TextKind = "passage",
        batch_size: int = 64,
        show_progress: bool = False,
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) > self.max_batch or show_progress:
            return self.inner.encode(texts, kind=kind, batch_size=batch_size, show_progress=show_progress)
        request = _Request(list(texts), kind)
        with self._close_lock:
            if self._closed:
                raise EncoderError("the micro-batching encoder is closed")
            self._queue.put(request)
        return request.future.result()

    def close(self, *, timeout: float | None = 10.0) -> None:
        """Serve what is queued, then stop the worker; later calls raise EncoderError."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        self._worker.join(timeout)

    def __enter__(self) -> MicroBatchingEncoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- worker ---------------------------------------------------------------------------------

    def _run(self) -> None:
        if self.threads:
            set_compute_threads(self.threads)
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            assert isinstance(first, _Request)
            batch, stop = self._gather(first)
            self._serve(batch)
            if stop:
                return

    def _gather(self, first: _Request) -> tuple[list[_Request], bool]:
        batch, size = [first], len(first.texts)
        deadline = time.monotonic() + self.max_wait_s
        while size < self.max_batch:
            remaining = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return batch, True
            assert isinstance(item, _Request)
            batch.append(item)
            size += len(item.texts)
        return batch, False

    def _serve(self, batch: list[_Request]) -> None:
        for kind in dict.fromkeys(r.kind for r in batch):
            group = [r for r in batch if r.kind == kind]
            texts = [t for r in group for t in r.texts]
            try:
                self.model_calls += 1
                vectors = self.inner.encode(texts, kind=kind, batch_size=max(len(texts), 1))
            except BaseException as exc:  # every waiting caller gets the error, the worker lives on
                for request in group:
                    request.future.set_exception(exc)
                continue
            start = 0
            for request in group:
                end = start + len(request.texts)
                request.future.set_result(vectors[start:end])
                start = end
