"""Loading data sets: idempotent upserts by ref, BEIR placeholders, the embedding cache."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from app.catalogue.loader import load_dataset
from app.core.database import create_db_engine, create_session_factory, unit_of_work
from app.core.migrations import ensure_schema
from app.core.settings import Settings
from app.indexing.state import CatalogueStateRepository
from app.models import Company, Embedding, Need, Provider, Technology
from matching.encoders.factory import load_encoder
from matching.evaluation.datasets import load_dataset as read_dataset
from matching.matcher import Matcher
from tests.app.support import MINI, CountingEncoder


def _count(settings: Settings, model: type) -> int:
    engine = create_db_engine(settings.database_url)
    with unit_of_work(create_session_factory(engine)) as session:
        n = session.scalar(select(func.count()).select_from(model)) or 0
    engine.dispose()
    return n


def _load(settings: Settings, path: Path) -> tuple[CountingEncoder, object]:
    engine = create_db_engine(settings.database_url)
    ensure_schema(engine)
    encoder = CountingEncoder(load_encoder("hashing"))
    report = load_dataset(
        create_session_factory(engine),
        dataset=read_dataset(path),
        matcher=Matcher(encoder),
        index_dir=settings.index_dir,
    )
    engine.dispose()
    return encoder, report


def test_loading_twice_changes_nothing(settings: Settings) -> None:
    encoder, report = _load(settings, MINI)
    assert report.created["technologies"] == 10 and report.created["needs"] == 8
    assert report.sync.outcome == "rebuilt"
    assert encoder.texts_encoded == 18

    encoder, report = _load(settings, MINI)
    assert not report.changed
    assert report.unchanged["providers"] == 4
    assert report.sync.outcome == "loaded"
    assert encoder.texts_encoded == 0
    assert _count(settings, Technology) == 10
    assert _count(settings, Embedding) == 18


def test_changed_record_is_updated_and_only_it_re_encoded(settings: Settings, tmp_path: Path) -> None:
    _load(settings, MINI)
    edited = tmp_path / "mini-edited"
    edited.mkdir()
    for source in MINI.iterdir():
        text = source.read_text(encoding="utf-8")
        if source.name == "technologies.jsonl":
            text = text.replace("Robotic welding cell for small batches", "Welding robot cell")
        (edited / source.name).write_text(text, encoding="utf-8")

    encoder, report = _load(settings, edited)
    assert report.updated["technologies"] == 1
    assert report.created["technologies"] == 0
    assert report.sync.outcome == "rebuilt"
    assert encoder.texts_encoded == 1


def test_beir_records_get_placeholder_parents(settings: Settings, tmp_path: Path) -> None:
    beir = tmp_path / "tinybeir"
    (beir / "qrels").mkdir(parents=True)
    corpus = [
        {"_id": "d1", "title": "Bearing faults", "text": "Vibration reveals bearing faults early."},
        {"_id": "d2", "title": "", "text": "Bread demand forecasting for bakeries."},
    ]
    queries = [{"_id": "q1", "text": "bearing vibration"}, {"_id": "q2", "text": "unlabelled"}]
    (beir / "corpus.jsonl").write_text("\n".join(map(json.dumps, corpus)), encoding="utf-8")
    (beir / "queries.jsonl").write_text("\n".join(map(json.dumps, queries)), encoding="utf-8")
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n", encoding="utf-8")

    _, report = _load(settings, beir)
    assert report.created["technologies"] == 2
    assert report.created["needs"] == 1  # only queries with labels
    assert _count(settings, Provider) == 1 and _count(settings, Company) == 1
    assert _count(settings, Need) == 1

    engine = create_db_engine(settings.database_url)
    with unit_of_work(create_session_factory(engine)) as session:
        provider = session.scalars(select(Provider)).one()
        assert provider.ref == "placeholder:tinybeir"
        assert CatalogueStateRepository(session).version() == 1
    engine.dispose()


def test_loading_leaves_another_tenants_row_with_the_same_ref_alone(settings: Settings) -> None:
    """Refs are unique per tenant: a data set loads into the default tenant and never updates another's row."""
    engine = create_db_engine(settings.database_url)
    ensure_schema(engine)
    provider_ref = read_dataset(MINI).providers[0].ref
    with unit_of_work(create_session_factory(engine)) as session:
        session.add(Provider(ref=provider_ref, name="Acme's own provider", tenant="acme"))
    engine.dispose()

    _, report = _load(settings, MINI)

    assert report.created["providers"] == 4
    engine = create_db_engine(settings.database_url)
    with unit_of_work(create_session_factory(engine)) as session:
        rows = session.scalars(select(Provider).where(Provider.ref == provider_ref)).all()
        assert {(row.tenant, row.name == "Acme's own provider") for row in rows} == {
            ("acme", True),
            ("default", False),
        }
        acme = next(row for row in rows if row.tenant == "acme")
        technologies_of_acme = session.scalar(
            select(func.count()).select_from(Technology).where(Technology.provider_id == acme.id)
        )
        assert technologies_of_acme == 0
    engine.dispose()
