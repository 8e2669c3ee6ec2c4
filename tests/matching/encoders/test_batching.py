import threading
from collections.abc import Sequence

import numpy as np
import pytest

from matching.encoders.base import TextKind
from matching.encoders.batching import MicroBatchingEncoder
from matching.encoders.hashing import HashingEncoder
from matching.errors import EncoderError


class CountingEncoder:
    """The hashing encoder, recording each model call; it can be told to fail or to wait."""

    def __init__(self, *, fail_on: str | None = None) -> None:
        self._inner = HashingEncoder(dimension=32)
        self.name, self.dimension, self.symmetric = "counting", 32, True
        self.calls: list[tuple[TextKind, list[str]]] = []
        self.fail_on = fail_on
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def encode(
        self, texts: Sequence[str], *, kind: TextKind = "passage", batch_size: int = 64, show_progress: bool = False
    ) -> np.ndarray:
        self.entered.set()
        self.gate.wait(5)
        self.calls.append((kind, list(texts)))
        if self.fail_on is not None and self.fail_on in texts:
            raise RuntimeError(f"cannot encode {self.fail_on!r}")
        return self._inner.encode(texts, kind=kind) + (1.0 if kind == "query" else 0.0)


def concurrently(encoder: MicroBatchingEncoder, jobs: list[tuple[list[str], TextKind]]) -> list[object]:
    """Run each job in its own thread, all released at once; results (or exceptions) in job order."""
    results: list[object] = [None] * len(jobs)
    start = threading.Barrier(len(jobs))

    def work(slot: int, texts: list[str], kind: TextKind) -> None:
        start.wait()
        try:
            results[slot] = encoder.encode(texts, kind=kind)
        except Exception as exc:  # the test inspects it
            results[slot] = exc

    threads = [threading.Thread(target=work, args=(i, t, k)) for i, (t, k) in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


def test_concurrent_calls_share_model_calls_and_get_their_own_vectors():
    inner = CountingEncoder()
    # The first call holds the model, so the other 15 queue up and are served together.
    inner.gate.clear()
    with MicroBatchingEncoder(inner, max_batch=64, max_wait_s=0.05) as encoder:
        jobs = [([f"need number {i} about welding"], "query") for i in range(16)]
        releaser = threading.Timer(0.2, inner.gate.set)
        releaser.start()
        results = concurrently(encoder, jobs)
        releaser.join()
    reference = CountingEncoder()
    for (texts, kind), got in zip(jobs, results, strict=True):
        assert isinstance(got, np.ndarray)
        np.testing.assert_array_equal(got, reference.encode(texts, kind=kind))
    assert len(inner.calls) < len(jobs)
    assert sum(len(texts) for _, texts in inner.calls) == len(jobs)
    assert encoder.model_calls == len(inner.calls)


def test_kinds_are_encoded_apart_and_multi_text_requests_keep_their_rows():
    inner = CountingEncoder()
    inner.gate.clear()
    with MicroBatchingEncoder(inner, max_batch=64, max_wait_s=0.05) as encoder:
        jobs = [(["a first sentence", "a second one"], "passage"), (["pump vibration"], "query")] * 4
        releaser = threading.Timer(0.2, inner.gate.set)
        releaser.start()
        results = concurrently(encoder, jobs)
        releaser.join()
    reference = CountingEncoder()
    for (texts, kind), got in zip(jobs, results, strict=True):
        np.testing.assert_array_equal(got, reference.encode(texts, kind=kind))
    for kind, texts in inner.calls:
        expected = "pump vibration" if kind == "query" else None
        assert all(t == expected for t in texts) if expected else "pump vibration" not in texts


def test_an_error_reaches_every_caller_of_that_batch_and_the_worker_survives():
    inner = CountingEncoder(fail_on="poison")
    inner.gate.clear()
    with MicroBatchingEncoder(inner, max_batch=64, max_wait_s=0.05) as encoder:
        jobs = [(["poison"], "query")] + [([f"text {i}"], "query") for i in range(5)]
        releaser = threading.Timer(0.2, inner.gate.set)
        releaser.start()
        results = concurrently(encoder, jobs)
        releaser.join()
        assert isinstance(results[0], RuntimeError)
        failed_together = [t for _, texts in inner.calls if "poison" in texts for t in texts]
        for (texts, _), got in zip(jobs, results, strict=True):
            if texts[0] in failed_together:
                assert isinstance(got, RuntimeError)
            else:
                assert isinstance(got, np.ndarray)
        # The worker is still alive after the failure.
        np.testing.assert_array_equal(encoder.encode(["after"]), CountingEncoder().encode(["after"]))


def test_large_requests_bypass_the_queue():
    inner = CountingEncoder()
    with MicroBatchingEncoder(inner, max_batch=4, max_wait_s=0.0) as encoder:
        out = encoder.encode([f"t{i}" for i in range(10)])
        assert out.shape == (10, 32)
        assert encoder.model_calls == 0
        assert len(inner.calls) == 1
        assert encoder.encode([]).shape == (0, 32)


def test_close_serves_queued_requests_then_refuses_new_ones():
    inner = CountingEncoder()
    encoder = MicroBatchingEncoder(inner, max_wait_s=0.0)
    assert encoder.encode(["before"]).shape == (1, 32)
    encoder.close()
    encoder.close()  # idempotent
    assert not encoder._worker.is_alive()
    with pytest.raises(EncoderError):
        encoder.encode(["after"])


def test_carries_the_wrapped_encoders_identity():
    inner = CountingEncoder()
    with MicroBatchingEncoder(inner) as encoder:
        assert (encoder.name, encoder.dimension, encoder.symmetric) == ("counting", 32, True)
    with pytest.raises(ValueError):
        MicroBatchingEncoder(inner, max_batch=0)


def test_worker_thread_runs_the_model_on_the_threads_it_was_given():
    import torch

    seen: list[int] = []

    class ThreadRecordingEncoder(CountingEncoder):
        def encode(self, texts, **options):
            seen.append(torch.get_num_threads())
            return super().encode(texts, **options)

    before = torch.get_num_threads()
    with MicroBatchingEncoder(ThreadRecordingEncoder(), threads=1) as encoder:
        encoder.encode(["one query"], kind="query")
    assert seen == [1]
    assert torch.get_num_threads() == before  # the caller's thread keeps its own setting
