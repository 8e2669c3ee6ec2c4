"""HTTP-level limits: request head and body sizes (431 and 413 problem+json), the server's own
head limit, and CORS origins from settings."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.problems import problem_response
from app.core.schemas import NUL_MESSAGE
from app.core.settings import Settings

# The server refuses a request head past this many times max_header_bytes on its own (h11 closes
# the connection with a plain 400 and stops buffering); up to there, HeaderLimits answers 431 problem+json.
SERVER_HEAD_FACTOR = 2


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn options that bound what one request head may make the server buffer.

    uvicorn's default parser (httptools) keeps reading a header of any size; h11 stops at
    `h11_max_incomplete_event_size` bytes of an incomplete request head.
    """
    return {"http": "h11", "h11_max_incomplete_event_size": SERVER_HEAD_FACTOR * settings.max_header_bytes}


class HeaderLimits:
    """Refuses a request whose head (request line and headers) is over `max_bytes` or has more than
    `max_count` headers: 431 problem+json, whatever server runs the app."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_count: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_count = max_count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        size += sum(len(name) + len(value) + 4 for name, value in headers)
        detail = None
        if len(headers) > self.max_count:
            detail = f"the request has {len(headers)} headers, more than {self.max_count}"
        elif size > self.max_bytes:
            detail = f"the request line and headers are {size} bytes, more than {self.max_bytes}"
        if detail is not None:
            response = problem_response(status=431, detail=detail, instance=scope["path"])
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


_FORM = b"application/x-www-form-urlencoded"


class RefuseNul:
    """The NUL rule of app.core.schemas for what the body models do not see: the URL (path and query)
    and form bodies (the curator pages), refused with 422 problem+json."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        url = (scope.get("raw_path") or scope["path"].encode()) + b"?" + (scope.get("query_string") or b"")
        if b"%00" in url or b"\x00" in url:
            response = problem_response(
                status=422,
                detail=f"the URL: {NUL_MESSAGE}",
                instance=scope["path"],
                errors=[{"location": ["url"], "message": NUL_MESSAGE, "type": "value_error"}],
            )
            await response(scope, receive, send)
            return
        content_type = dict(scope["headers"]).get(b"content-type", b"").split(b";")[0].strip().lower()
        if content_type != _FORM:
            await self.app(scope, receive, send)
            return
        tail = b""

        async def checked() -> Message:
            nonlocal tail
            message = await receive()
            if message["type"] == "http.request":
                seen = tail + message.get("body", b"")
                if b"%00" in seen or b"\x00" in seen:
                    # Raised while FastAPI reads the form; its handler renders the problem.
                    raise HTTPException(422, f"the form: {NUL_MESSAGE}")
                tail = seen[-2:]
            return message

        await self.app(scope, checked, send)


class BodySizeLimit:
    """Refuses bodies over `max_bytes`: by Content-Length up front, and by counting chunked bodies."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Path prefix -> its own cap (file uploads may be larger than JSON bodies).
        self.larger = larger or {}

    def _cap(self, path: str) -> int:
        return next((cap for prefix, cap in self.larger.items() if path.startswith(prefix)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self._cap(scope["path"])
        detail = f"the request body is larger than {cap} bytes"
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > cap:
            response = problem_response(status=413, detail=detail, instance=scope["path"])
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    # FastAPI re-raises Starlette's HTTPException from body parsing; the handler renders it.
                    raise HTTPException(413, detail)
            return message

        await self.app(scope, counted, send)


def install_http_limits(app: FastAPI, settings: Settings) -> None:
    """Head and body size caps, and CORS for the configured browser origins (none by default)."""
    # Bulk imports take files up to their own setting (README "Bulk import and export").
    imports = max(settings.max_body_bytes, getattr(settings, "import_max_bytes", 0))
    app.add_middleware(RefuseNul)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, larger={"/api/v1/imports/": imports})
    app.add_middleware(HeaderLimits, max_bytes=settings.max_header_bytes, max_count=settings.max_header_count)
    if settings.cors_origins:
        # Added last, so it is outermost: a browser can read the 413 and 431 problems too.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type"],
            expose_headers=["Location", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining"],
            max_age=600,
        )
