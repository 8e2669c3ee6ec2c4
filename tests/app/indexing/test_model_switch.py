"""Switching the model re-embeds every stored text once, never mixes two models in an index, and then stays put."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.catalogue.records import need_record, technology_record
from app.catalogue.repository import NeedRepository, TechnologyRepository
from app.cli import cli
from app.core.database import create_db_engine, create_session_factory, unit_of_work
from app.core.settings import Settings
from app.learning.service import _FITTED, CALIBRATION_FILE
from app.models import Embedding
from matching.encoders.base import TextKind
from matching.encoders.hashing import HashingEncoder
from matching.matcher import Matcher
from matching.retrieval.texts import need_text, technology_text
from matching.retrieval.vector_index import IndexMeta, VectorIndex
from tests.app.support import CountingEncoder, faiss_files, started_app


class MirrorEncoder:
    """A second deterministic model: another name, another dimension, other vectors (hashes reversed text)."""

    def __init__(self) -> None:
        self._inner = HashingEncoder(dimension=96)
        self.name = "mirror-96"
        self.dimension = 96
        self.symmetric = True

    def encode(
        self,
        texts: Sequence[str],
        *,
        kind: TextKind = "passage",
        batch_size: int = 64,
        show_progress: bool = False,
    ) -> np.ndarray:
        return self._inner.encode([text[::-1] for text in texts], kind=kind)


def _stored_texts(settings: Settings) -> tuple[dict[int, str], dict[int, str]]:
    engine = create_db_engine(settings.database_url)
    with unit_of_work(create_session_factory(engine)) as session:
        technologies = {row.id: technology_text(technology_record(row)) for row in TechnologyRepository(session).all()}
        needs = {row.id: need_text(need_record(row)) for row in NeedRepository(session).all()}
    engine.dispose()
    return technologies, needs


def _embedding_counts(settings: Settings) -> dict[str, int]:
    engine = create_db_engine(settings.database_url)
    with unit_of_work(create_session_factory(engine)) as session:
        rows = session.execute(select(Embedding.model, func.count()).group_by(Embedding.model)).all()
    engine.dispose()
    return {model: count for model, count in rows}


def _index_models(settings: Settings) -> set[tuple[str, int]]:
    metas = [json.loads(p.read_text("utf-8")) for p in settings.index_dir.glob("*.meta.json")]
    assert len(metas) == 2  # technologies and needs
    return {(meta["model"], meta["dimension"]) for meta in metas}


@faiss_files
def test_switching_model_reembeds_once_and_never_mixes(loaded_settings: Settings, tmp_path: Path) -> None:
    technology_texts, need_texts = _stored_texts(loaded_settings)
    assert _index_models(loaded_settings) == {("hashing", 256)}
    distinct = len(set(technology_texts.values()) | set(need_texts.values()))

    mirror = CountingEncoder(MirrorEncoder())
    # Without labels to calibrate a new model on (it would encode the demo catalogue's texts for that),
    # what the model encodes at start-up is the re-embedding alone.
    unlabelled = loaded_settings.model_copy(update={"demo_dir": tmp_path / "no-labels"})
    app = started_app(unlabelled, Matcher(mirror))
    # The hashing index on disk was refused (its meta names another model), not loaded.
    assert app.state.index_sync.outcome == "rebuilt"
    assert "model is 'hashing', expected 'mirror-96'" in app.state.index_sync.reason
    assert mirror.texts_encoded == distinct  # every stored text, once
    reference = MirrorEncoder()
    for name, texts in (("technologies", technology_texts), ("needs", need_texts)):
        meta = IndexMeta(**json.loads((loaded_settings.index_dir / f"{name}.meta.json").read_text("utf-8")))
        saved = VectorIndex.load(loaded_settings.index_dir, name=name, expected=meta)
        ids = sorted(texts)
        assert sorted(saved.ids().tolist()) == ids
        np.testing.assert_allclose(saved.vectors(ids), reference.encode([texts[i] for i in ids]), atol=1e-6)
    assert _index_models(loaded_settings) == {("mirror-96", 96)}
    # Both models' vectors stay in the cache, each under its own name.
    assert _embedding_counts(loaded_settings) == {"hashing": distinct, "mirror-96": distinct}

    # A second start with the new model loads the saved index and encodes nothing.
    again = CountingEncoder(MirrorEncoder())
    assert started_app(unlabelled, Matcher(again)).state.index_sync.outcome == "loaded"
    assert again.texts_encoded == 0

    # Switching back rebuilds from the cached hashing vectors: nothing is encoded either.
    back = CountingEncoder(HashingEncoder())
    app = started_app(unlabelled, Matcher(back))
    assert app.state.index_sync.outcome == "rebuilt"
    assert back.texts_encoded == 0
    assert _index_models(loaded_settings) == {("hashing", 256)}


def test_reembed_command_switches_the_model_with_progress(loaded_settings: Settings, monkeypatch) -> None:
    monkeypatch.setenv("TECHMATCH_DATABASE_URL", loaded_settings.database_url)
    monkeypatch.setenv("TECHMATCH_DATA_DIR", str(loaded_settings.data_dir))
    monkeypatch.setenv("TECHMATCH_MODEL", "hashing+glossary")
    runner = CliRunner()

    result = runner.invoke(cli, ["reembed", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    technology_texts, need_texts = _stored_texts(loaded_settings)
    distinct = len(set(technology_texts.values()) | set(need_texts.values()))
    assert summary["model"] == "hashing+glossary"
    assert summary["index"] == "rebuilt" and summary["encoded"] == distinct
    assert "embedding with hashing+glossary" in result.stderr  # the progress bar
    assert _index_models(loaded_settings) == {("hashing+glossary", 256)}

    result = runner.invoke(cli, ["reembed", "--json"])
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["index"] == "loaded" and summary["encoded"] == 0


def test_unknown_model_is_a_clear_error(loaded_settings: Settings, monkeypatch) -> None:
    monkeypatch.setenv("TECHMATCH_DATABASE_URL", loaded_settings.database_url)
    monkeypatch.setenv("TECHMATCH_MODEL", "no-such-model")
    result = CliRunner().invoke(cli, ["reembed"])
    assert result.exit_code == 2
    assert "no-such-model" in result.stderr


def test_a_new_model_is_calibrated_once_on_the_shipped_labels(loaded_settings: Settings) -> None:
    """A model without shipped calibration constants is fitted on the demo catalogue's labels at its
    first start; the fit is kept beside the index, so the next start (another process) encodes nothing."""
    first = CountingEncoder(MirrorEncoder())
    started_app(loaded_settings, Matcher(first))
    stored = len(set().union(*(set(t.values()) for t in _stored_texts(loaded_settings))))
    assert first.texts_encoded > stored  # the stored texts, and the demo catalogue's for the fit
    saved = json.loads((loaded_settings.index_dir / CALIBRATION_FILE).read_text("utf-8"))
    assert saved["key"]["model"] == "mirror-96" and saved["calibration"]["scale"] > 0
    _FITTED.clear()  # as a new process
    again = CountingEncoder(MirrorEncoder())
    matcher = Matcher(again)
    started_app(loaded_settings, matcher)
    assert again.texts_encoded == 0
    assert matcher.calibration.as_dict() == saved["calibration"]
