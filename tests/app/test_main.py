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


def test_a_stopped_app_is_freed(settings: Settings) -> None:
    """Nothing process-wide (FastAPI's caches of endpoints, a thread, a registry) keeps a stopped app
    alive: a process that builds many apps, like the test suite or a reloading server, stays flat."""
    app = create_app(settings)
    with TestClient(app) as client:
        authorize(client)
        assert client.get("/docs").status_code == 200
        assert client.get("/redoc").status_code == 200
        assert client.get("/readyz").status_code == 200
    app.state.engine.dispose()
    freed = weakref.ref(app)
    del app, client
    gc.collect()
    assert freed() is None, [type(r).__name__ for r in gc.get_referrers(freed())]
