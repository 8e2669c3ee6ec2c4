"""Start-up loads the saved BM25 index with the vectors; a bad BM25 file alone is rebuilt from texts and saved."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from matching.engine import Matcher
from matching.lexical import LexicalIndex
from tests.app.support import authorize, counting_matcher


def _start(settings: Settings, matcher: Matcher) -> FastAPI:
    app = create_app(settings, matcher=matcher)
    with TestClient(app) as client:
        authorize(client)
        assert client.get("/readyz").status_code == 200
    app.state.engine.dispose()
    return app


@pytest.mark.parametrize("damage", ["delete", "garbage"])
def test_bad_bm25_file_is_rebuilt_and_saved_without_encoding(loaded_settings: Settings, damage: str) -> None:
    path = loaded_settings.index_dir / "technologies.bm25.npz"
    assert path.is_file()  # saved with the vector index
    before = path.stat().st_mtime_ns
    if damage == "delete":
        path.unlink()
    else:
        path.write_bytes(b"\x00garbage" * 10)

    matcher, encoder = counting_matcher()
    app = _start(loaded_settings, matcher)
    assert app.state.index_sync.outcome == "loaded"  # the vectors were fine: nothing else rebuilt
    assert encoder.texts_encoded == 0
    assert matcher.technology_count == 10
    saved = LexicalIndex.load(path, count=10, catalogue_version=app.state.index_sync.catalogue_version)
    assert path.stat().st_mtime_ns != before and len(saved) == 10
