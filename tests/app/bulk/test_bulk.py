"""Bulk import and export over the API: validation reports, all-or-nothing writes, round trips, formulas."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.core.database import create_db_engine, unit_of_work
from app.core.migrations import ensure_schema
from app.core.settings import Settings
from app.main import create_app
from app.models import Company
from tests.app.support import MINI, authorize

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bulk"
RESOURCES = ("providers", "technologies", "companies", "needs")


def _upload(
    client: TestClient,
    resource: str,
    name: str,
    data: bytes,
    *,
    content_type: str = "application/octet-stream",
    **params: Any,
) -> Any:
    return client.post(f"/api/v1/imports/{resource}", files={"file": (name, data, content_type)}, params=params)


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _items(client: TestClient, resource: str) -> list[dict[str, Any]]:
    return client.get(f"/api/v1/{resource}", params={"limit": 100}).json()["items"]


def _xlsx(rows: list[list[Any]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_csv_import_creates_rows_and_updates_the_index(client: TestClient) -> None:
    providers = _upload(client, "providers", "providers.csv", _fixture("providers.csv"))
    assert providers.status_code == 200, providers.text
    assert providers.json() | {} == {
        "resource": "providers",
        "format": "csv",
        "dry_run": False,
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "created_without_ref": 0,
    }
    technologies = _upload(client, "technologies", "technologies.csv", _fixture("technologies.csv"))
    assert technologies.status_code == 200, technologies.text
    assert technologies.json()["created"] == 3

    rows = {t["ref"]: t for t in _items(client, "technologies")}
    assert set(rows) == {"BT1", "BT2", "BT3"}
    assert rows["BT1"]["categories"] == ["machine-vision", "quality-control"]
    assert rows["BT1"]["provider_name"] == "Limfjord Vision ApS"
    assert rows["BT2"]["price_min_eur"] == 15000 and rows["BT2"]["price_max_eur"] is None

    # The index follows the import, as it follows a POST.
    found = client.post("/api/v1/match", json={"text": "weld seam inspection camera", "k": 1}).json()
    assert found["items"][0]["technology_ref"] == "BT1"


def test_every_problem_is_reported_and_nothing_is_written(client: TestClient) -> None:
    assert _upload(client, "providers", "providers.csv", _fixture("providers.csv")).status_code == 200
    response = _upload(client, "technologies", "technologies.csv", _fixture("technologies_bad.csv"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert "nothing was imported" in body["detail"]
    problems = {(e["row"], e["column"]) for e in body["errors"]}
    assert problems == {
        (2, "categories"),  # unknown category
        (3, "title"),  # empty title
        (4, "trl"),  # 12
        (5, "provider_ref"),  # no such provider
        (6, "ref"),  # the ref of row 2 again
        (7, "price_min_eur"),  # above price_max_eur
    }
    by_row = {e["row"]: e["problem"] for e in body["errors"]}
    assert "unknown category 'telepathy'" in by_row[2]
    assert "no provider with ref 'NOPE'" in by_row[5]
    assert "also on row 2" in by_row[6]
    # Row 8 is valid, but one bad row keeps every row out.
    assert _items(client, "technologies") == []


def test_dry_run_validates_and_counts_without_writing(client: TestClient) -> None:
    response = _upload(client, "providers", "providers.csv", _fixture("providers.csv"), dry_run="true")
    assert response.status_code == 200
    assert response.json()["dry_run"] is True and response.json()["created"] == 2
    assert _items(client, "providers") == []


def test_reimport_updates_by_ref_and_leaves_absent_columns_alone(client: TestClient) -> None:
    first = b"ref,name,sector,employees,region,description\r\nAC1,Skive Pumper A/S,machinery,80,DK-82,Pumps.\r\n"
    assert _upload(client, "companies", "c.csv", first).json()["created"] == 1
    same = _upload(client, "companies", "c.csv", first).json()
    assert (same["created"], same["updated"], same["unchanged"]) == (0, 0, 1)

    # Only ref and name: the sector, size and description stay; an empty region cell clears it.
    partial = b"ref,name,region\r\nAC1,Skive Pumper ApS,\r\n"
    assert _upload(client, "companies", "c.csv", partial).json()["updated"] == 1
    (company,) = _items(client, "companies")
    assert company["name"] == "Skive Pumper ApS"
    assert company["sector"] == "machinery" and company["employees"] == 80 and company["description"] == "Pumps."
    assert company["region"] is None


def test_competences_and_skills_are_lists_in_every_format(client: TestClient) -> None:
    companies = b"ref,name,skills\r\nAC1,Skive Pumper A/S,MIG welding; PLC-programmering\r\nAC2,Lemvig Plast,\r\n"
    assert _upload(client, "companies", "c.csv", companies).json()["created"] == 2
    skills = {c["ref"]: c["skills"] for c in _items(client, "companies")}
    assert skills == {"AC1": ["MIG welding", "PLC-programmering"], "AC2": []}
    assert _upload(client, "providers", "p.csv", _fixture("providers.csv")).status_code == 200
    technologies = _xlsx(
        [
            ["ref", "provider_ref", "title", "competences"],
            ["CT1", "LV1", "Weld seam camera", "image evaluation;=basic SPC"],
        ]
    )
    assert _upload(client, "technologies", "t.xlsx", technologies).json()["created"] == 1
    (technology,) = [t for t in _items(client, "technologies") if t["ref"] == "CT1"]
    assert technology["competences"] == ["image evaluation", "=basic SPC"]
    exported = _export(client, "technologies", "csv").decode("utf-8-sig")
    row = next(r for r in csv.DictReader(io.StringIO(exported)) if r["ref"] == "CT1")
    assert row["competences"] == "image evaluation;=basic SPC"  # the cell as a whole does not start with =
    lines = [line for line in _export(client, "companies", "jsonl").decode().splitlines() if '"AC1"' in line]
    assert '"skills": ["MIG welding", "PLC-programmering"]' in lines[0]


def test_needs_name_their_company_by_ref_and_get_matches(loaded_client: TestClient) -> None:
    data = (
        b"ref,company_ref,title,description,lang,budget_eur_max,min_trl,region,languages\n"
        b"BN1,C1,Weld cracks,Hairline cracks in welded brackets reach our customers.,en,50000,6,DK-81,da;en\n"
    )
    response = _upload(loaded_client, "needs", "needs.csv", data)
    assert response.status_code == 200, response.text
    need = next(n for n in _items(loaded_client, "needs") if n["ref"] == "BN1")
    assert need["constraints"] == {"budget_eur_max": 50000, "min_trl": 6, "region": "DK-81", "languages": ["da", "en"]}
    matches = loaded_client.post(f"/api/v1/needs/{need['id']}/matches")
    assert matches.status_code == 200
    assert matches.json()["items"]


def test_xlsx_import_reads_the_first_sheet_and_refuses_formulas(client: TestClient) -> None:
    good = _xlsx(
        [
            ["ref", "name", "sector", "employees", "region", "description"],
            ["X1", "Vejle Plast A/S", "plastics", 120, "DK-83", "Injection moulding."],
            [None, None, None, None, None, None],  # blank rows in a sheet are skipped
            [101, "Kolding Træ ApS", "wood-furniture", 12.0, "DK-83", "Oak tables."],
        ]
    )
    response = _upload(client, "companies", "companies.xlsx", good)
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 2
    refs = {c["ref"]: c for c in _items(client, "companies")}
    assert refs["101"]["employees"] == 12

    formula = _xlsx([["ref", "name"], ["X2", '=HYPERLINK("http://evil.example")']])
    refused = _upload(client, "companies", "companies.xlsx", formula)
    assert refused.status_code == 422
    assert {"row": 2, "column": "name", "problem": "cell B2 holds a formula; paste it as a value"} in (
        refused.json()["errors"]
    )


def test_jsonl_in_the_benchmark_format(client: TestClient) -> None:
    counts = {}
    for resource in RESOURCES:
        data = (MINI / f"{resource}.jsonl").read_bytes()
        response = _upload(client, resource, f"{resource}.jsonl", data)
        assert response.status_code == 200, response.text
        counts[resource] = response.json()["created"]
    assert counts == {"providers": 4, "technologies": 10, "companies": 5, "needs": 8}
    found = client.post(
        "/api/v1/match", json={"text": "Scratches and black specks on injection moulded parts", "k": 1}
    ).json()
    assert found["items"][0]["technology_ref"] == "T05"

    bad = b'{"id": "N9", "company_id": "C1", "title": "x", "constraints": {"min_trl": 0, "colour": "red"}}\n'
    response = _upload(client, "needs", "needs.jsonl", bad)
    assert response.status_code == 422
    assert {(e["row"], e["column"]) for e in response.json()["errors"]} == {
        (1, "constraints.colour"),
        (1, "constraints.min_trl"),
    }


@pytest.fixture
def empty_client(tmp_path: Path, settings: Settings) -> Iterator[TestClient]:
    """A second service on its own empty database (SQLite, whatever the first one runs on)."""
    url = f"sqlite:///{tmp_path / 'other.db'}"
    engine = create_db_engine(url)
    ensure_schema(engine)
    engine.dispose()
    other = settings.model_copy(update={"database_url": url, "data_dir": tmp_path / "other-data"})
    with TestClient(create_app(other)) as client:
        authorize(client)
        yield client


def _export(client: TestClient, resource: str, file_format: str) -> bytes:
    response = client.get(f"/api/v1/exports/{resource}", params={"format": file_format})
    assert response.status_code == 200, response.text
    return response.content


@pytest.mark.parametrize("file_format", ["csv", "xlsx", "jsonl"])
def test_export_then_import_into_an_empty_database_gives_the_same_data(
    loaded_client: TestClient, empty_client: TestClient, file_format: str
) -> None:
    for resource in RESOURCES:
        data = _export(loaded_client, resource, file_format)
        response = _upload(empty_client, resource, f"{resource}.{file_format}", data)
        assert response.status_code == 200, response.text
    for resource in RESOURCES:
        assert _export(empty_client, resource, "jsonl") == _export(loaded_client, resource, "jsonl")

    def comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        drop = {"id", "provider_id", "company_id", "created_at", "updated_at"}
        return sorted(({k: v for k, v in r.items() if k not in drop} for r in rows), key=lambda r: r["ref"])

    for resource in RESOURCES:
        assert comparable(_items(empty_client, resource)) == comparable(_items(loaded_client, resource))


INJECTIONS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rReturn", "'quoted"]


def test_exports_neutralise_formulas_and_import_them_back_unchanged(
    client: TestClient, empty_client: TestClient
) -> None:
    for number in range(len(INJECTIONS)):
        body = {"ref": f"F{number}", "name": f"Formula {number}"}
        assert client.post("/api/v1/companies", json=body).status_code == 201
    # The API strips white space; a data set loaded from files may still start a text with a tab.
    app = client.app
    assert isinstance(app, FastAPI)
    with unit_of_work(app.state.session_factory) as session:
        for company in session.scalars(select(Company)):
            company.description = INJECTIONS[int(company.ref.removeprefix("F"))]

    rows = list(csv.DictReader(io.StringIO(_export(client, "companies", "csv").decode("utf-8-sig"), newline="")))
    assert [row["description"] for row in rows] == ["'" + text for text in INJECTIONS]

    workbook = openpyxl.load_workbook(io.BytesIO(_export(client, "companies", "xlsx")))
    sheet = workbook.worksheets[0]
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    descriptions = [row[5].value for row in sheet.iter_rows(min_row=2)]
    # XML turns a carriage return into a line feed; either way the cell is text.
    assert descriptions == ["'" + text.replace("\r", "\n") for text in INJECTIONS]

    for file_format in ("csv", "xlsx"):
        data = _export(client, "companies", file_format)
        assert _upload(empty_client, "companies", f"c.{file_format}", data).status_code == 200
        got = {c["ref"]: c["description"] for c in _items(empty_client, "companies")}
        # Text is stored stripped, as through the API.
        assert got == {f"F{n}": text.strip() for n, text in enumerate(INJECTIONS)}


@pytest.mark.parametrize(
    ("name", "data", "status", "words"),
    [
        ("c.csv", "ref,name\nL1,Ærø Værft\n".encode("latin-1"), 400, "not a UTF-8 CSV file"),
        ("c.csv", b"PK\x03\x04\x00\x00binary", 400, "an XLSX workbook?"),
        ("c.xlsx", b"this is no workbook", 400, "not a readable XLSX file"),
        ("c.xlsx", b"PK\x03\x04 truncated zip", 400, "not a readable XLSX file"),
        ("c.jsonl", b"ref,name\nL1,x\n", 400, "not a JSON Lines file"),
        ("c.csv", b'ref,name\n"L1,unterminated\n', 400, "not a readable CSV file"),
        ("c.csv", b"", 400, "the file is empty"),
        ("c.txt", b"ref,name\nL1,x\n", 415, "format=csv|xlsx|jsonl"),
    ],
)
def test_malformed_files_get_a_clear_4xx(client: TestClient, name: str, data: bytes, status: int, words: str) -> None:
    response = _upload(client, "companies", name, data, content_type="text/plain")
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert words in response.json()["detail"]


def test_bom_semicolons_and_content_type_are_understood(client: TestClient) -> None:
    data = "\ufeffref;name;sector\r\nS1;Ærø Værft ApS;maritime\r\n".encode()
    response = _upload(client, "companies", "upload", data, content_type="text/csv")
    assert response.status_code == 200, response.text
    assert _items(client, "companies")[0]["name"] == "Ærø Værft ApS"


def test_header_problems_are_reported_on_row_one(client: TestClient) -> None:
    response = _upload(client, "companies", "c.csv", b"ref,nmae,name,name\nQ1,x,y,z\n")
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert any(e["row"] == 1 and e["column"] == "nmae" and "unknown column" in e["problem"] for e in errors)
    assert any(e["row"] == 1 and e["column"] == "name" and "twice" in e["problem"] for e in errors)


def test_row_and_size_limits(settings: Settings) -> None:
    small = settings.model_copy(update={"import_max_rows": 2, "import_max_bytes": 2048})
    with TestClient(create_app(small)) as client:
        authorize(client)
        rows = b"ref,name\n" + b"".join(b"R%d,Company %d\n" % (n, n) for n in range(3))
        too_many = _upload(client, "companies", "c.csv", rows)
        assert too_many.status_code == 413
        assert "more than 2 rows" in too_many.json()["detail"]
        too_big = _upload(client, "companies", "c.csv", b"ref,name\nR1," + b"x" * 3000 + b"\n")
        assert too_big.status_code == 413
        assert _items(client, "companies") == []


def test_a_workbook_that_unpacks_to_far_more_than_the_limit_is_refused(settings: Settings) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/sharedStrings.xml", " " * 5_000_000)  # deflates to a few kB
    small = settings.model_copy(update={"import_max_bytes": 100_000})
    assert len(buffer.getvalue()) < small.import_max_bytes
    with TestClient(create_app(small)) as client:
        authorize(client)
        response = _upload(client, "companies", "bomb.xlsx", buffer.getvalue())
    assert response.status_code == 413
    assert "unpacks to 5000008 bytes" in response.json()["detail"]


def test_imports_belong_to_the_keys_tenant(client: TestClient) -> None:
    assert _upload(client, "companies", "c.csv", b"ref,name\nC1,Default Tenant A/S\n").status_code == 200
    authorize(client, tenant="acme", scopes=("needs:write",))
    response = _upload(client, "companies", "c.csv", b"ref,name\nC1,Acme A/S\n")
    assert response.json()["created"] == 1  # the same ref in another tenant is another company
    exported = _export(client, "companies", "jsonl").decode()
    assert "Acme A/S" in exported and "Default Tenant" not in exported

    # A need of tenant acme cannot hang under the default tenant's company by id.
    authorize(client)
    default_id = next(c["id"] for c in _items(client, "companies") if c["name"] == "Default Tenant A/S")
    authorize(client, tenant="acme", scopes=("needs:write",))
    refused = _upload(client, "needs", "n.csv", f"company_id,title\n{default_id},Leaks\n".encode())
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["column"] == "company_id"


def test_imports_need_the_write_scope_of_their_resource(client: TestClient) -> None:
    authorize(client, scopes=("needs:write",))
    assert _upload(client, "providers", "p.csv", _fixture("providers.csv")).status_code == 403
    assert _upload(client, "companies", "c.csv", b"ref,name\nC1,x\n").status_code == 200
    authorize(client, scopes=("catalogue:write",))
    assert _upload(client, "companies", "c.csv", b"ref,name\nC1,x\n").status_code == 403
    assert client.get("/api/v1/exports/providers").status_code == 200


def test_a_file_over_the_general_body_cap_is_imported(client: TestClient, settings: Settings) -> None:
    description = "Machining of steel parts for wind turbines. " * 90  # about 4 kB a row
    rows = [f"W{n},Wind Parts {n} ApS,{description}" for n in range(300)]
    data = ("ref,name,description\n" + "\n".join(rows) + "\n").encode()
    assert settings.max_body_bytes < len(data) < settings.import_max_bytes
    response = _upload(client, "companies", "companies.csv", data)
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 300


def test_moving_a_technology_to_another_provider_reaches_the_index(client: TestClient) -> None:
    assert _upload(client, "providers", "providers.csv", _fixture("providers.csv")).status_code == 200
    assert _upload(client, "technologies", "technologies.csv", _fixture("technologies.csv")).status_code == 200
    moved = b"ref,provider_ref,title\r\nBT3,LV1,Gripper exchange\r\n"
    assert _upload(client, "technologies", "t.csv", moved).json()["updated"] == 1
    bt3 = next(t for t in _items(client, "technologies") if t["ref"] == "BT3")
    assert bt3["provider_name"] == "Limfjord Vision ApS" and bt3["categories"] == ["cobots"]
    found = client.post("/api/v1/match", json={"text": "quick-change grippers for one cobot", "k": 1}).json()
    assert found["items"][0]["technology_ref"] == "BT3"
    assert found["items"][0]["provider_name"] == "Limfjord Vision ApS"


def test_a_json_line_without_its_required_fields_names_each_once(client: TestClient) -> None:
    response = _upload(client, "needs", "needs.jsonl", b'{"id": "N1", "description": "no title, no company"}\n')
    assert response.status_code == 422
    assert sorted((e["row"], e["column"], e["problem"]) for e in response.json()["errors"]) == [
        (1, "company_id", "the company is missing (company_ref or company_id)"),
        (1, "title", "Field required"),
    ]


@pytest.mark.parametrize("file_format", ["csv", "xlsx", "jsonl"])
def test_rows_without_a_ref_round_trip_by_their_id(client: TestClient, file_format: str) -> None:
    # Rows without ref, as the API allows: an export names them by id, so importing it back matches them.
    company = client.post("/api/v1/companies", json={"name": "Vejle Støberi"}).json()
    client.post("/api/v1/needs", json={"company_id": company["id"], "title": "Sorting castings"}).raise_for_status()
    for resource in ("companies", "needs"):
        data = _export(client, resource, file_format)
        report = _upload(client, resource, f"{resource}.{file_format}", data).json()
        assert (report["rows"], report["created"], report["unchanged"]) == (1, 0, 1), report
    assert [c["id"] for c in _items(client, "companies")] == [company["id"]]
    assert len(_items(client, "needs")) == 1

    # An edited export updates the row it names; a ref given there becomes the row's ref.
    edited = f"id,ref,name\n{company['id']},vejle,Vejle Støberi A/S\n".encode()
    report = _upload(client, "companies", "c.csv", edited).json()
    assert (report["updated"], report["created"]) == (1, 0)
    assert [(c["id"], c["ref"], c["name"]) for c in _items(client, "companies")] == [
        (company["id"], "vejle", "Vejle Støberi A/S")
    ]


def test_an_id_names_only_a_row_of_the_tenant_and_rows_without_either_are_created(client: TestClient) -> None:
    company = client.post("/api/v1/companies", json={"name": "Vejle Støberi", "ref": "vejle"}).json()
    taken = client.post("/api/v1/companies", json={"name": "Hobro Træ", "ref": "hobro"}).json()
    refused = _upload(
        client, "companies", "c.csv", f"id,ref,name\n999999,,Ghost\n{company['id']},hobro,Clash\n".encode()
    )
    assert refused.status_code == 422
    problems = {(e["row"], e["column"]): e["problem"] for e in refused.json()["errors"]}
    assert problems == {
        (2, "id"): "no company with id 999999; to create the row anew, leave its id empty",
        (3, "ref"): f"ref 'hobro' belongs to company id {taken['id']}",
    }
    twice = _upload(client, "companies", "c.csv", f"id,name\n{company['id']},A\n{company['id']},B\n".encode())
    assert twice.json()["errors"] == [{"row": 3, "column": "id", "problem": f"id {company['id']} is also on row 2"}]
    authorize(client, tenant="other")
    other = _upload(client, "companies", "c.csv", f"id,name\n{company['id']},Taken over\n".encode())
    assert other.status_code == 422 and "no company with id" in other.text

    # Neither ref nor id: created, each time; the report says so.
    plain = b"name\nNew A/S\n"
    for _ in range(2):
        report = _upload(client, "companies", "c.csv", plain).json()
        assert (report["created"], report["created_without_ref"]) == (1, 1)
    assert [c["name"] for c in _items(client, "companies")] == ["New A/S", "New A/S"]
