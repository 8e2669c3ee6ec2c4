"""HTTP-level limits: a cap on request body size (413 problem+json) and CORS origins from settings."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.problems import problem_response
from app.core.settings import Settings


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
    """Body size cap, and CORS for the configured browser origins (none by default)."""
    # Bulk imports take files up to their own setting (README "Bulk import and export").
    imports = max(settings.max_body_bytes, getattr(settings, "import_max_bytes", 0))
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, larger={"/api/v1/imports/": imports})
    if settings.cors_origins:
        # Added last, so it is outermost: a browser can read the 413 problem too.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type"],
            expose_headers=["Location", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining"],
            max_age=600,
        )
