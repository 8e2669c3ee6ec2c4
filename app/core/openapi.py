"""The API contract as published: OpenAPI with tags, scopes, problem responses and examples."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
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
    401: "no API key, or one that is unknown or revoked",
    403: "the key lacks the scope this operation needs (or the row belongs to another tenant's catalogue)",
    404: "no such id for this key's tenant",
    413: "the request body is over the size cap",
    422: "invalid input; `errors` names each field",
    429: "rate limit of the key reached; retry after `Retry-After` seconds",
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


def _problem_response(status: int) -> dict[str, Any]:
    return {
        "description": _ERROR_DESCRIPTIONS[status],
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
        statuses = [401, 429] + ([403] if scopes else [])
        if "{" in path:
            statuses.append(404)
        if method in {"POST", "PATCH", "PUT"}:
            statuses.append(413)
        if "422" in responses or method in {"POST", "PATCH", "PUT"}:
            statuses.append(422)
        for status in statuses:
            responses[str(status)] = _problem_response(status)
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
