import json

import pytest

from matching.errors import DatasetError
from matching.evaluation.datasets import load_dataset


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture
def benchmark_dir(tmp_path):
    write_jsonl(
        tmp_path / "providers.jsonl",
        [{"id": "P1", "name": "Acme", "country": "DK", "region": "DK-81", "description": "d", "website": None}],
    )
    write_jsonl(
        tmp_path / "technologies.jsonl",
        [
            {
                "id": "T1",
                "provider_id": "P1",
                "title": "t",
                "description": "d",
                "categories": ["robotics"],
                "sectors": ["metal"],
                "trl": 9,
                "price_eur": {"min": 10, "max": 20},
                "languages": ["da"],
                "regions_served": ["DK"],
            }
        ],
    )
    write_jsonl(
        tmp_path / "companies.jsonl",
        [{"id": "C1", "name": "Smed", "sector": "metal", "employees": 5, "region": "DK-81", "description": "d"}],
    )
    write_jsonl(
        tmp_path / "needs.jsonl",
        [
            {
                "id": "N1",
                "company_id": "C1",
                "title": "t",
                "description": "d",
                "lang": "da",
                "constraints": {"budget_eur_max": 5, "min_trl": None, "region": "DK-81", "languages": ["da"]},
            }
        ],
    )
    (tmp_path / "qrels.tsv").write_text("need_id\ttechnology_id\trelevance\nN1\tT1\t2\n")
    return tmp_path


def test_benchmark_format_is_read(benchmark_dir):
    data = load_dataset(benchmark_dir)
    assert data.format == "benchmark"
    assert data.technologies[0].price_min_eur == 10 and data.technologies[0].categories == ("robotics",)
    assert data.needs[0].constraints.budget_eur_max == 5
    assert data.needs[0].constraints.languages == ("da",)
    assert data.qrels == {"N1": {"T1": 2}}


def test_offtopic_needs_are_read_and_checked(benchmark_dir):
    assert load_dataset(benchmark_dir).offtopic == frozenset()
    (benchmark_dir / "offtopic.txt").write_text("N1\n")
    with pytest.raises(DatasetError, match="N1, which has relevant offerings"):
        load_dataset(benchmark_dir)
    (benchmark_dir / "qrels.tsv").write_text("need_id\ttechnology_id\trelevance\n")
    assert load_dataset(benchmark_dir).offtopic == frozenset({"N1"})
    (benchmark_dir / "offtopic.txt").write_text("N1\nN9\n")
    with pytest.raises(DatasetError, match="unknown need 'N9'"):
        load_dataset(benchmark_dir)


def test_beir_format_keeps_only_test_queries(tmp_path):
    write_jsonl(
        tmp_path / "corpus.jsonl", [{"_id": "d1", "title": "A", "text": "x"}, {"_id": "d2", "title": "", "text": "y"}]
    )
    write_jsonl(tmp_path / "queries.jsonl", [{"_id": "q1", "text": "x?"}, {"_id": "q2", "text": "train only"}])
    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    data = load_dataset(tmp_path)
    assert data.format == "beir"
    assert [n.ref for n in data.needs] == ["q1"]
    assert len(data.technologies) == 2 and data.technologies[0].provider_ref is None


@pytest.mark.parametrize(
    ("file", "line", "message"),
    [
        (
            "technologies.jsonl",
            '{"id": "T1", "provider_id": "P9", "title": "t", "description": "d"}',
            "unknown provider",
        ),
        ("technologies.jsonl", '{"id": "T1", "provider_id": "P1", "description": "d"}', "missing field 'title'"),
        (
            "technologies.jsonl",
            '{"id": "T1", "provider_id": "P1", "title": "t", "description": "d", "trl": "nine"}',
            "wrong type",
        ),
        ("needs.jsonl", "{not json", "needs.jsonl:1: not valid JSON"),
        ("companies.jsonl", '{"id": "C1", "name": "a"}\n{"id": "C1", "name": "b"}', "duplicate id"),
    ],
)
def test_malformed_files_name_file_line_and_problem(benchmark_dir, file, line, message):
    (benchmark_dir / file).write_text(line + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=message):
        load_dataset(benchmark_dir)


def test_unknown_layout_is_refused(tmp_path):
    with pytest.raises(DatasetError, match="neither"):
        load_dataset(tmp_path)
    with pytest.raises(DatasetError, match="not a directory"):
        load_dataset(tmp_path / "missing")
