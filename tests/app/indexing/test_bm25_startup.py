"""Start-up loads the saved BM25 index with the vectors; a bad BM25 file alone is rebuilt from texts and saved."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.catalogue.records import all_need_records, all_technology_records, need_record, technology_record
from app.catalogue.repository import NeedRepository, TechnologyRepository
from app.core.database import create_db_engine, create_session_factory, unit_of_work
from app.core.settings import Settings
from app.models import Company, Need
from matching.retrieval.bm25 import LexicalIndex
from tests.app.support import counting_matcher, started_app


@pytest.mark.parametrize("damage", ["delete", "garbage"])
def test_bad_bm25_file_is_rebuilt_and_saved_without_encoding(loaded_settings: Settings, damage: str) -> None:
    path = loaded_settings.index_dir / "technologies.bm25.npz"
    assert path.is_file()  # saved with the vector index
    # A first start fits the calibration for the hashing model and keeps it beside the index, so the
    # start below has nothing to encode however the tests are ordered.
    started_app(loaded_settings, counting_matcher()[0])
    before = path.stat().st_mtime_ns
    if damage == "delete":
        path.unlink()
    else:
        path.write_bytes(b"\x00garbage" * 10)

    matcher, encoder = counting_matcher()
    app = started_app(loaded_settings, matcher)
    assert app.state.index_sync.outcome == "loaded"  # the vectors were fine: nothing else rebuilt
    assert encoder.texts_encoded == 0
    assert matcher.catalogue.technology_count == 10
    saved = LexicalIndex.load(path, count=10, catalogue_version=app.state.index_sync.catalogue_version)
    assert path.stat().st_mtime_ns != before and len(saved) == 10


def test_column_reads_give_the_same_records_as_the_orm(loaded_settings: Settings) -> None:
    engine = create_db_engine(loaded_settings.database_url)
    factory = create_session_factory(engine)
    with unit_of_work(factory) as session:
        company = session.scalars(select(Company)).first()
        assert company is not None
        # Both forms of "any language" and an explicit list, besides what the mini data set holds.
        session.add_all(
            [
                Need(company_id=company.id, title="a", description="x", languages=None),
                Need(company_id=company.id, title="b", description="y", languages=["da", "en"]),
            ]
        )
        session.flush()
        technologies = [technology_record(row) for row in TechnologyRepository(session).all()]
        needs = [need_record(row) for row in NeedRepository(session).all()]
        assert all_technology_records(session) == technologies and len(technologies) == 10
        assert all_need_records(session) == needs and len(needs) == 10
        assert {n.constraints.languages for n in needs} >= {None, ("da", "en")}
        assert any(t.categories and t.regions_served for t in technologies)
    engine.dispose()
