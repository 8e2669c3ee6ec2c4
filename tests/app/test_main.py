import gc
import weakref

from fastapi.testclient import TestClient

from app.core.settings import Settings
from app.main import create_app, serving_encoder
from matching.encoders.batching import MicroBatchingEncoder
from matching.encoders.hashing import HashingEncoder
from tests.app.support import authorize


def test_queries_are_micro_batched_unless_turned_off():
    batched = serving_encoder(Settings(model="hashing", micro_batch_max=16, micro_batch_wait_ms=2))
    try:
        assert isinstance(batched, MicroBatchingEncoder)
        assert (batched.max_batch, batched.max_wait_s) == (16, 0.002)
        assert isinstance(batched.inner, HashingEncoder)
        assert batched.encode(["welding robot"], kind="query").shape == (1, batched.dimension)
    finally:
        batched.close()
    assert isinstance(serving_encoder(Settings(model="hashing", micro_batching=False)), HashingEncoder)


def test_stopped_apps_are_freed(settings: Settings) -> None:
    """Nothing process-wide (FastAPI's caches of endpoints, a registry) keeps stopped apps alive, so a
    process that builds many apps, like the test suite, stays flat. At most the last one may linger a
    while (a worker thread of a shared pool still holds its last task until it takes the next)."""
    freed = []
    for _ in range(3):
        app = create_app(settings)
        with TestClient(app) as client:
            authorize(client)
            assert client.get("/docs").status_code == 200
            assert client.get("/redoc").status_code == 200
            assert client.get("/readyz").status_code == 200
        app.state.engine.dispose()
        freed.append(weakref.ref(app))
        del app, client
    gc.collect()
    alive = [ref() for ref in freed if ref() is not None]
    assert len(alive) <= 1, [type(r).__name__ for r in gc.get_referrers(alive[0])]


def test_a_started_app_refuses_a_second_start(settings: Settings) -> None:
    """A second start would replace the running workers on app.state and leave the first ones running,
    unreferenced; a second client of a started app needs no start of its own."""
    app = create_app(settings)
    with TestClient(app) as client:
        authorize(client)
        follower = app.state.follower
        try:
            with TestClient(app):
                raise AssertionError("the second start must be refused")
        except RuntimeError as exc:
            assert "already started" in str(exc)
        assert app.state.follower is follower  # the running one, untouched
        other = TestClient(app)  # another browser on the same server: no start
        authorize(other)
        assert other.get("/readyz").status_code == 200
    with TestClient(app) as again:  # stopped, it may start again
        assert again.get("/healthz").status_code == 200
    app.state.engine.dispose()
