from app.core.settings import Settings
from app.main import serving_encoder
from matching.encoders.batching import MicroBatchingEncoder
from matching.encoders.hashing import HashingEncoder


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
