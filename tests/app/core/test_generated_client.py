"""A client generated from docs/openapi.json (openapi-python-client) drives a whole flow with readable names."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.app.support import create_api_key

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
PACKAGE = "techmatch_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client package, generated once for the module from the committed document."""
    out = tmp_path_factory.mktemp("generated")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}  # it formats with ruff
    result = subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(ROOT / "docs" / "openapi.json"),
            "--meta",
            "none",
            "--output-path",
            str(out / PACKAGE),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _api(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def _model(name: str) -> Any:
    return getattr(importlib.import_module(f"{PACKAGE}.models"), name)


def test_operations_have_readable_names(generated: ModuleType) -> None:
    root = Path(generated.__file__).parent / "api"
    modules = {f"{p.parent.name}.{p.stem}" for p in root.glob("*/*.py") if p.stem != "__init__"}
    assert {
        "needs.create_need",
        "needs.compute_matches",
        "needs.list_matches",
        "companies.create_company",
        "matches.match_text",
        "review.list_review_queue",
        "review.decide_match",
        "technologies.list_leads",
        "privacy.export_company_data",
    } <= modules
    # FastAPI's default names carry the path and method (create_need_api_v1_needs_post): none is left.
    assert not [m for m in modules if "_api_v1_" in m]


def test_a_full_flow_through_the_generated_client(generated: ModuleType, loaded_app: FastAPI) -> None:
    with TestClient(loaded_app) as http:
        key = create_api_key(loaded_app, tenant="default", scopes=("admin",))
        client = generated.AuthenticatedClient(base_url="http://testserver", token=key)
        # The generated client talks httpx; the test client is one, bound to the app.
        client.set_httpx_client(http)
        http.headers["Authorization"] = f"Bearer {key}"

        company = _api("companies.create_company").sync(
            client=client,
            body=_model("CompanyCreate")(ref="GEN-1", name="Generated Metal A/S", sector="metal", employees=40),
        )
        assert isinstance(company, _model("CompanyRead")) and company.ref == "GEN-1"
        again = _api("companies.create_company").sync_detailed(
            client=client, body=_model("CompanyCreate")(ref="GEN-1", name="Twice")
        )
        # A duplicate ref is a parsed problem, not an unparsed body.
        assert again.status_code == 409 and isinstance(again.parsed, _model("Problem"))
        assert again.parsed.type_ == "/problems/conflict"

        need = _api("needs.create_need").sync(
            client=client,
            body=_model("NeedCreate")(
                company_id=company.id,
                ref="GEN-N1",
                title="Cracks in welded brackets",
                description="Hairline cracks at the weld slip through visual checks and reach customers.",
            ),
        )
        assert isinstance(need, _model("NeedRead"))
        computed = _api("needs.compute_matches").sync(client=client, need_id=need.id, k=3)
        assert isinstance(computed, _model("NeedMatches")) and computed.items
        assert computed.fit.value in {"good", "weak"}
        top = computed.items[0]
        assert abs(sum(top.components.contributions.additional_properties.values()) - top.components.log_odds) < 1e-3

        queue = _api("review.list_review_queue").sync(client=client, need_id=need.id)
        match_id = queue.items[0].match_id
        version = queue.items[0].review_version
        decided = _api("review.decide_match").sync(
            client=client,
            match_id=match_id,
            body=_model("DecisionCreate")(action=_model("Action")("approve"), expected_version=version),
        )
        # Before and after are typed states, not loose maps.
        assert decided.before.status.value == "proposed" and decided.after.status.value == "approved"

        approved = _api("needs.list_matches").sync(client=client, need_id=need.id)
        assert [m.status.value for m in approved.items] == ["approved"]
        exported = _api("privacy.export_company_data").sync(client=client, company_id=company.id)
        assert isinstance(exported, _model("CompanyExport"))
        assert [n.ref for n in exported.needs] == ["GEN-N1"] and exported.review_decisions
