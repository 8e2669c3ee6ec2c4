"""The published contract: docs/openapi.json is the live document; operations carry scopes, errors, examples."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.core.errors import PROBLEM_TYPES
from app.core.openapi import REQUEST_EXAMPLES, TAGS, openapi_json

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"
REGENERATE = ".venv/bin/techmatch openapi > docs/openapi.json"
METHODS = {"get", "post", "put", "patch", "delete"}


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method in METHODS
    }


def test_committed_document_is_the_live_one(app: FastAPI) -> None:
    live = openapi_json(app)
    committed = COMMITTED.read_text(encoding="utf-8")
    if live != committed:
        live_document, committed_document = json.loads(live), json.loads(committed)
        now, then = _operations(live_document), _operations(committed_document)
        added, removed = sorted(set(now) - set(then)), sorted(set(then) - set(now))
        changed = sorted(k for k in set(now) & set(then) if now[k] != then[k])
        schemas_now = live_document.get("components", {}).get("schemas", {})
        schemas_then = committed_document.get("components", {}).get("schemas", {})
        schemas = sorted(k for k in set(schemas_now) | set(schemas_then) if schemas_now.get(k) != schemas_then.get(k))
        raise AssertionError(
            "docs/openapi.json differs from the API. If the change is intended, regenerate it with\n"
            f"    {REGENERATE}\nand commit it; integrators read this file.\n"
            f"added operations: {added}\nremoved operations: {removed}\nchanged operations: {changed}\n"
            f"changed schemas: {schemas}"
        )


def test_the_cli_prints_the_document(app: FastAPI) -> None:
    result = CliRunner().invoke(cli, ["openapi"])
    assert result.exit_code == 0, result.output
    assert result.stdout == openapi_json(app)
    assert json.loads(result.stdout)["info"]["title"] == "techmatch"


def test_every_api_operation_is_described(app: FastAPI) -> None:
    document = app.openapi()
    described_tags = {tag["name"] for tag in document["tags"]}
    schemes = set(document["components"]["securitySchemes"])
    assert schemes == {"bearerKey", "apiKeyHeader"}
    problems = []
    for (method, path), operation in _operations(document).items():
        if not path.startswith("/api/v1"):
            continue
        if not operation.get("tags") or not set(operation["tags"]) <= described_tags:
            problems.append((method, path, "tag without a description in app.core.openapi.TAGS"))
        if not operation.get("summary") or "Scope:" not in operation.get("description", ""):
            problems.append((method, path, "summary or scope missing"))
        if "x-required-scopes" not in operation:
            problems.append((method, path, "x-required-scopes missing"))
        if {next(iter(s)) for s in operation.get("security", [])} != schemes:
            problems.append((method, path, "security schemes missing"))
        for status in ("401", "429"):
            content = operation["responses"].get(status, {}).get("content", {})
            if "application/problem+json" not in content:
                problems.append((method, path, f"{status} problem response missing"))
    assert problems == []
    assert {tag["name"] for tag in TAGS} == described_tags


def test_validation_errors_are_documented_as_problems(app: FastAPI) -> None:
    document = app.openapi()
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert set(schemas["Problem"]["properties"]["type"]["enum"]) == set(PROBLEM_TYPES.values())
    create_need = document["paths"]["/api/v1/needs"]["post"]
    assert create_need["x-required-scopes"] == ["needs:write"]
    assert create_need["responses"]["422"]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    assert document["paths"]["/api/v1/technologies"]["get"]["x-required-scopes"] == []


def test_request_examples_are_accepted(client: TestClient, app: FastAPI) -> None:
    schemas = app.openapi()["components"]["schemas"]
    for name, example in REQUEST_EXAMPLES.items():
        assert schemas[name]["examples"] == [example]
    provider = client.post("/api/v1/providers", json=REQUEST_EXAMPLES["ProviderCreate"])
    assert provider.status_code == 201, provider.text
    technology = REQUEST_EXAMPLES["TechnologyCreate"] | {"provider_id": provider.json()["id"]}
    assert client.post("/api/v1/technologies", json=technology).status_code == 201
    company = client.post("/api/v1/companies", json=REQUEST_EXAMPLES["CompanyCreate"])
    assert company.status_code == 201, company.text
    need = REQUEST_EXAMPLES["NeedCreate"] | {"company_id": company.json()["id"]}
    assert client.post("/api/v1/needs", json=need).status_code == 201
    matched = client.post("/api/v1/match", json=REQUEST_EXAMPLES["AdHocMatchRequest"])
    assert matched.status_code == 200, matched.text


VERBS = (
    "list_",
    "get_",
    "create_",
    "update_",
    "delete_",
    "compute_",
    "match_",
    "import_",
    "export_",
    "decide_",
    "revise_",
    "rebuild_",
    "learn_",
    "redeliver_",
)


def test_operation_ids_are_readable_and_unique(app: FastAPI) -> None:
    ids = [op["operationId"] for op in _operations(app.openapi()).values()]
    assert len(ids) == len(set(ids))
    unreadable = [i for i in ids if not re.fullmatch(r"[a-z]+(_[a-z]+)*", i) or not i.startswith(VERBS)]
    assert unreadable == [], "name the route function as a verb phrase, or map it in OPERATION_IDS"


def test_every_status_an_operation_answers_is_declared_as_a_problem(app: FastAPI) -> None:
    operations = _operations(app.openapi())
    for (method, path), operation in operations.items():
        if not path.startswith("/api/v1"):
            continue
        responses = operation["responses"]
        expected = {"401", "429", "431", "503"} | ({"400", "413", "422"} if method in {"POST", "PATCH"} else set())
        assert expected <= set(responses), (method, path)
        for code, response in responses.items():
            if int(code) >= 400:
                assert "application/problem+json" in response["content"], (method, path, code)
    conflicts = {key for key, op in operations.items() if "409" in op["responses"]}
    assert {
        ("POST", "/api/v1/needs"),
        ("POST", "/api/v1/companies"),
        ("POST", "/api/v1/providers"),
        ("POST", "/api/v1/technologies"),
        ("POST", "/api/v1/review/matches/{match_id}/decisions"),
    } <= conflicts
    assert "415" in operations[("POST", "/api/v1/imports/needs")]["responses"]


def test_the_interactive_docs_need_no_internet(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources and all(s.startswith(("/docs/assets/", "/openapi.json")) for s in sources), sources
        assert "cdn" not in html.lower() and "fonts.googleapis" not in html
        for asset in sources:
            if asset.startswith("/docs/assets/"):
                response = client.get(asset)
                assert response.status_code == 200 and len(response.content) > 1000, asset
