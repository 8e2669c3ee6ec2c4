"""The API contract as published: OpenAPI with tags, scopes, problem responses and examples."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute, iter_route_contexts

from app.core.errors import PROBLEM_TYPES

API_PREFIX = "/api/v1"

DESCRIPTION = """\
REST API of techmatch for cluster websites: submit SMEs' needs, compute and read their matches with
technology offerings, keep the provider catalogue in step. See docs/integration.md for a walk-through.

**Keys.** Every route under `/api/v1` needs an API key (`Authorization: Bearer tm_...` or `X-API-Key`),
created by an administrator with `techmatch keys create --tenant T --scopes S1,S2`. A key belongs to one
tenant and sees only that tenant's companies, needs and matches; another tenant's id answers 404. Each
operation names the scopes it accepts in `x-required-scopes` (`admin` implies every scope).

**Errors** are `application/problem+json` (RFC 9457) with a stable `type` per kind of failure:
{types}

**Limits.** Requests per key are limited (429 with `Retry-After`); bodies over the size cap answer 413;
lists take `limit` (at most the page size cap) and return `next_cursor` to fetch the next page.
"""

TAGS: list[dict[str, str]] = [
    {"name": "needs", "description": "SMEs' needs in their own words; compute and read a need's matches."},
    {"name": "companies", "description": "The SMEs (members) that needs belong to."},
    {"name": "matches", "description": "Ad-hoc matching of a text, nothing stored."},
    {"name": "technologies", "description": "Offerings in the technology catalogue, and their leads (fitting needs)."},
    {"name": "providers", "description": "Technology providers, owners of the offerings."},
    {"name": "bulk", "description": "Import and export the catalogue and members as files."},
    {"name": "privacy", "description": "Access to and erasure of an SME's data."},
    {"name": "review", "description": "Curators' queue and decisions on proposed matches."},
    {"name": "pairing", "description": "Demonstration-day pairing plans and their revisions."},
    {
        "name": "engagements",
        "description": "Introductions and demonstrations followed to adoption or decline: the facilitators' board.",
    },
    {"name": "programme", "description": "The programme's picture for facilitators and its report for funders."},
    {"name": "webhooks", "description": "Subscriptions to events, signed deliveries and their log."},
    {"name": "jobs", "description": "Long work queued with `Prefer: respond-async`: its progress and result."},
    {"name": "admin", "description": "Operator actions on the running service."},
    {"name": "health", "description": "Liveness and readiness probes (no key needed)."},
]

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "An RFC 9457 problem. Branch on `type`; `detail` is for people and may change wording.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "enum": sorted(set(PROBLEM_TYPES.values()))},
        "title": {"type": "string", "description": "the HTTP status phrase"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "the request path"},
        "errors": {
            "type": "array",
            "description": "per-field problems (422)",
            "items": {
                "type": "object",
                "properties": {
                    "location": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "examples": [
        {
            "type": "/problems/not-found",
            "title": "Not Found",
            "status": 404,
            "detail": "no need with id 41",
            "instance": "/api/v1/needs/41",
        }
    ],
}

_ERROR_DESCRIPTIONS = {
    400: "the body cannot be read (not UTF-8, not JSON, nested too deep)",
    401: "no API key, or one that is unknown or revoked",
    403: "the key lacks the scope this operation needs (or the row belongs to another tenant's catalogue)",
    404: "no such id for this key's tenant",
    409: "conflicts with what is stored",
    413: "the request body is over the size cap",
    415: "the body's media type is not one this operation reads",
    422: "invalid input; `errors` names each field",
    429: "rate limit of the key reached; retry after `Retry-After` seconds",
    431: "the request line and headers are over the size or count limit",
    503: "not ready (starting, or the index is behind), or the database is busy; retry after `Retry-After` seconds",
}

# Request examples an integrator can paste; they are valid bodies (a test posts them).
REQUEST_EXAMPLES: dict[str, dict[str, Any]] = {
    "ProviderCreate": {"ref": "P-114", "name": "Limfjord Vision ApS", "country": "DK", "region": "DK-81"},
    "TechnologyCreate": {
        "ref": "T-920",
        "provider_id": 1,
        "title": "Camera inspection of weld seams",
        "description": "Line-scan cameras and a trained model find porosity and undercut in MIG welds.",
        "categories": ["machine-vision", "quality-control"],
        "trl": 8,
        "price_min_eur": 15000,
        "price_max_eur": 40000,
        "languages": ["da", "en"],
    },
    "CompanyCreate": {"ref": "M-0042", "name": "Skive Stål A/S", "sector": "metal", "employees": 85, "region": "DK-82"},
    "NeedCreate": {
        "ref": "form-2291",
        "company_id": 1,
        "title": "Find weld defects before painting",
        "description": "We weld 400 frames a day and find porosity only after painting. We want to catch it at the "
        "welding cell.",
        "lang": "en",
        "constraints": {"budget_eur_max": 50000, "min_trl": 7, "region": "DK-82"},
    },
    "AdHocMatchRequest": {"text": "automatic inspection of weld seams", "k": 5, "constraints": {"min_trl": 6}},
}


# An operation's id is its route function's name (what a generated client calls it), renamed here where
# that name reads badly out of its module: `queue` is `list_review_queue` in a client.
OPERATION_IDS: dict[str, str] = {
    "technology_leads": "list_leads",
    "read_matches": "list_matches",
    "plan_history": "list_plan_revisions",
    "export_csv": "export_plan_csv",
    "export_html": "export_plan_html",
    "heatmap": "get_plan_heatmap",
    "learn": "learn_ranking",
    "ranking_model": "get_ranking_model",
    "queue": "list_review_queue",
    "get_match": "get_review_match",
    "match_history": "list_match_decisions",
    "decide": "decide_match",
    "decide_many": "decide_matches",
    "recent_decisions": "list_decisions",
    "redeliver": "redeliver_delivery",
    "healthz": "get_health",
    "introduce": "create_engagement",
    "board": "get_engagement_board",
    "update": "update_engagement",
    "history": "list_engagement_history",
    "move": "create_engagement_move",
    "from_plan": "create_engagements_from_plan",
    "compare_revisions": "get_plan_revision_comparison",
    "dashboard": "get_programme_dashboard",
    "plot": "get_programme_plot",
    "report": "get_programme_report",
    "report_xlsx": "export_programme_report_xlsx",
    "replication": "get_replication_status",
    "readyz": "get_readiness",
}


def operation_id(route: APIRoute) -> str:
    """The operationId of a route (FastAPI's default appends the path and method)."""
    return OPERATION_IDS.get(route.name, route.name)


def _calls(dependant: object) -> Iterator[object]:
    for dependency in getattr(dependant, "dependencies", []):
        yield dependency.call
        yield from _calls(dependency)


def operation_scopes(app: FastAPI) -> dict[tuple[str, str], tuple[str, ...]]:
    """(method, path) -> the scopes its auth dependency accepts (empty: any valid key), for /api/v1 routes."""
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    for context in iter_route_contexts(app.routes):
        path = context.path
        if not isinstance(context.original_route, APIRoute) or path is None or not path.startswith(API_PREFIX):
            continue
        scopes = [s for call in _calls(context.dependant) for s in getattr(call, "required_scopes", ())]
        for method in context.methods or ():
            found[(method, path)] = tuple(dict.fromkeys(scopes))
    return found


def _problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    return {
        "description": description or _ERROR_DESCRIPTIONS[status],
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def build_openapi(app: FastAPI) -> dict[str, Any]:
    types = "\n".join(f"- `{uri}` ({status})" for status, uri in sorted(PROBLEM_TYPES.items()))
    document = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=DESCRIPTION.format(types=types),
        routes=app.routes,
        tags=TAGS,
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for name, example in REQUEST_EXAMPLES.items():
        if name in schemas:
            schemas[name]["examples"] = [example]
    for (method, path), scopes in operation_scopes(app).items():
        operation = document["paths"].get(path, {}).get(method.lower())
        if operation is None:  # not in the schema (include_in_schema=False)
            continue
        operation["x-required-scopes"] = list(scopes)
        needs = " or ".join(f"`{s}`" for s in scopes) if scopes else "any valid key"
        operation["description"] = f"{operation.get('description', '').strip()}\n\nScope: {needs}.".strip()
        responses = operation.setdefault("responses", {})
        # What any operation can answer, then what its kind can; an operation's own error responses
        # (a 409 on a create, a 415 on an import) keep their description and get the problem body.
        statuses = [401, 429, 431, 503] + ([403] if scopes else [])
        if "{" in path:
            statuses.append(404)
        if method in {"POST", "PATCH", "PUT"}:
            statuses += [400, 413]
        if "422" in responses or method in {"POST", "PATCH", "PUT"}:
            statuses.append(422)
        for status in statuses:
            responses[str(status)] = _problem_response(status)
        for code, response in responses.items():
            if code.isdigit() and int(code) >= 400 and int(code) not in statuses:
                responses[code] = _problem_response(int(code), response.get("description"))
    # Validation errors are problems too; FastAPI's own shape is never sent.
    for operations in document["paths"].values():
        for operation in operations.values():
            if "422" in operation.get("responses", {}):
                operation["responses"]["422"] = _problem_response(422)
    for unused in ("HTTPValidationError", "ValidationError"):
        if f"#/components/schemas/{unused}" not in json.dumps(document):
            schemas.pop(unused, None)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serves build_openapi at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def openapi_json(app: FastAPI) -> str:
    """The document as committed in docs/openapi.json: sorted keys, two-space indent, final newline."""
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


DOCS_ASSETS = "/docs/assets"


def install_docs(app: FastAPI) -> None:
    """/docs (Swagger UI) and /redoc, with their scripts and styles served from an installed package
    (fastapi-offline ships them), so the documentation works where there is no internet."""
    from fastapi.staticfiles import StaticFiles

    assets = resources.files("fastapi_offline") / "static"
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(assets)), name="docs-assets")
    # Module-level endpoints that read the app from the request: FastAPI caches facts about every
    # endpoint it sees in process-wide caches, and a closure over `app` would keep each app alive there.
    app.add_api_route("/docs", _swagger_ui, include_in_schema=False)
    app.add_api_route("/redoc", _redoc, include_in_schema=False)


def _swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title=f"{request.app.title} API",
        swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
    )


def _redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url="/openapi.json",
        title=f"{request.app.title} API",
        redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
        redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png",
        with_google_fonts=False,
    )
