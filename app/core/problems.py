"""The handlers that render every error as problem+json; an expected failure is never a 500."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import PROBLEM_MEDIA_TYPE, AppError, problem_type
from app.core.schemas import NUL_MESSAGE

logger = logging.getLogger(__name__)


def problem_response(
    *,
    status: int,
    detail: str,
    instance: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An RFC 9457 problem: a stable `type` per status (PROBLEM_TYPES), the status phrase as title."""
    body: dict[str, Any] = {
        "type": problem_type(status),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem_response(
        status=exc.status,
        detail=exc.detail,
        instance=request.url.path,
        errors=exc.errors,
        headers=exc.headers,
    )


async def validation_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Only loc, msg and type: pydantic's ctx may hold exception objects that JSON cannot carry.
    errors = [
        {"location": list(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    fields = ", ".join(".".join(map(str, e["location"])) for e in errors)
    return problem_response(status=422, detail=f"invalid request: {fields}", instance=request.url.path, errors=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if isinstance(exc.__cause__, RecursionError):  # FastAPI's 400 for a body its JSON decoder gave up on
        detail = "the JSON body is nested too deeply to read"
    return problem_response(
        status=exc.status_code,
        detail=detail,
        instance=request.url.path,
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    # Services check uniqueness first; this answers the race where two writes pass that check.
    logger.warning("integrity error on %s %s: %s", request.method, request.url.path, exc)
    return problem_response(status=409, detail="the change conflicts with existing data", instance=request.url.path)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(status=500, detail="an unexpected error occurred", instance=request.url.path)


# SQLite's answer when another writer held the lock past the busy timeout: the request may well
# succeed a moment later, so it is a 503 with Retry-After, not a server fault.
_BUSY_MESSAGES = ("database is locked", "database table is locked", "database is busy")

BUSY_RETRY_AFTER_S = 1


async def _operational_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OperationalError)
    if not any(message in str(exc.orig).lower() for message in _BUSY_MESSAGES):
        return await _unexpected_error(request, exc)
    logger.warning("database busy on %s %s: %s", request.method, request.url.path, exc.orig)
    return _retry_shortly(request, "the database is busy with other writes; retry shortly")


async def _pool_timeout(request: Request, exc: Exception) -> JSONResponse:
    # Every pooled connection stayed busy past the pool's timeout: overload, which passes.
    logger.warning("no database connection free on %s %s: %s", request.method, request.url.path, exc)
    return _retry_shortly(request, "the service is overloaded; retry shortly")


def _retry_shortly(request: Request, detail: str) -> JSONResponse:
    return problem_response(
        status=503, detail=detail, instance=request.url.path, headers={"Retry-After": str(BUSY_RETRY_AFTER_S)}
    )


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    # PostgreSQL refuses a value SQLite stores. The edge refuses NUL before it gets here
    # (app.core.schemas.refuse_nul); a NUL that slips past it is named rather than called a number.
    if "0x00" in str(exc) or "\\u0000" in str(exc):
        logger.warning("NUL reached the database on %s %s: %s", request.method, request.url.path, exc)
        return problem_response(
            status=422,
            detail=NUL_MESSAGE,
            instance=request.url.path,
            errors=[{"location": ["request"], "message": NUL_MESSAGE, "type": "value_error"}],
        )
    return await _overflow_error(request, exc)


async def _overflow_error(request: Request, exc: Exception) -> JSONResponse:
    # An id or number past what the database stores (64-bit integers) cannot name a row or a sane
    # value; the schema allows any integer, so the driver is where it shows (SQLite: OverflowError,
    # PostgreSQL: DataError).
    logger.info("number out of range on %s %s: %s", request.method, request.url.path, exc)
    return problem_response(
        status=422,
        detail="a number in the request is out of range (at most 2**63 - 1 in magnitude)",
        instance=request.url.path,
        errors=[{"location": ["request"], "message": "number out of range", "type": "overflow"}],
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, validation_problem)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(OverflowError, _overflow_error)
    app.add_exception_handler(DataError, _data_error)  # PostgreSQL: numeric value out of range, NUL in text
    app.add_exception_handler(OperationalError, _operational_error)
    app.add_exception_handler(PoolTimeout, _pool_timeout)
    app.add_exception_handler(Exception, _unexpected_error)
