"""Text to vector through the cache keyed by (model, text hash): only missing texts are encoded."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from sqlalchemy.orm import Session

from app.indexing.repository import EmbeddingStore
from matching.encoders.base import Encoder
from matching.retrieval.texts import need_text, technology_text, text_hash
from matching.types import Need, Technology

ProgressCallback = Callable[[int], None]


def vectors_for_texts(
    session: Session,
    *,
    encoder: Encoder,
    texts: Sequence[str],
    batch_size: int = 64,
    on_encoded: ProgressCallback | None = None,
) -> np.ndarray:
    """Vectors row-aligned with `texts`; new ones are encoded in batches and stored.

    `on_encoded` is told how many texts each batch encoded (for progress bars). The cache is
    read and written in bulk (column tuples, one INSERT per batch): at 10^5 texts the ORM's
    per-object bookkeeping would cost more than the lookups themselves.
    """
    if not texts:
        return np.zeros((0, encoder.dimension), dtype=np.float32)
    hashes = [text_hash(text) for text in texts]
    store = EmbeddingStore(session)
    cached = store.vectors(model=encoder.name, text_hashes=set(hashes))
    found: dict[str, np.ndarray] = {
        digest: np.frombuffer(vector, dtype="<f4")
        for digest, (dimension, vector) in cached.items()
        if dimension == encoder.dimension
    }
    missing: dict[str, str] = {}
    for digest, text in zip(hashes, texts, strict=True):
        if digest not in found:
            missing.setdefault(digest, text)
    # Shortest first, as sentence-transformers orders one call: a batch of similar lengths pads
    # little. In stored order, every batch of 64 padded to its longest text (about 1.6x the
    # model time of one call on 1,000 offers, `scripts/bench.py ingest`).
    pending = sorted(missing.items(), key=lambda item: len(item[1]))
    for start in range(0, len(pending), batch_size):
        batch = pending[start : start + batch_size]
        vectors = encoder.encode([text for _, text in batch], kind="passage", batch_size=batch_size)
        fresh: list[dict[str, object]] = []
        for (digest, _), vector in zip(batch, vectors, strict=True):
            found[digest] = vector
            if digest in cached:  # same model name, other dimension: the model changed under it
                store.replace(
                    model=encoder.name, text_hash=digest, dimension=encoder.dimension, vector=_to_bytes(vector)
                )
            else:
                fresh.append(
                    {
                        "model": encoder.name,
                        "text_hash": digest,
                        "dimension": encoder.dimension,
                        "vector": _to_bytes(vector),
                    }
                )
        store.insert(fresh)
        if on_encoded is not None:
            on_encoded(len(batch))
    out = np.empty((len(texts), encoder.dimension), dtype=np.float32)
    for row, digest in enumerate(hashes):
        out[row] = found[digest]
    return out


def technology_vectors(
    session: Session,
    *,
    encoder: Encoder,
    technologies: Sequence[Technology],
    batch_size: int = 64,
    on_encoded: ProgressCallback | None = None,
) -> np.ndarray:
    return vectors_for_texts(
        session,
        encoder=encoder,
        texts=[technology_text(t) for t in technologies],
        batch_size=batch_size,
        on_encoded=on_encoded,
    )


def need_vectors(
    session: Session,
    *,
    encoder: Encoder,
    needs: Sequence[Need],
    batch_size: int = 64,
    on_encoded: ProgressCallback | None = None,
) -> np.ndarray:
    return vectors_for_texts(
        session,
        encoder=encoder,
        texts=[need_text(n) for n in needs],
        batch_size=batch_size,
        on_encoded=on_encoded,
    )


def missing_count(session: Session, *, encoder: Encoder, texts: Sequence[str]) -> int:
    """How many distinct texts are not cached yet (to size a progress bar)."""
    hashes = {text_hash(text) for text in texts}
    cached = EmbeddingStore(session).dimensions(model=encoder.name, text_hashes=hashes)
    return sum(1 for digest in hashes if cached.get(digest) != encoder.dimension)


def _to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()
