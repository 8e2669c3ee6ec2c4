"""Errors that carry their HTTP status, and the stable problem type of each status (RFC 9457)."""

from __future__ import annotations

from typing import Any, Self

from app.web.i18n import Said

PROBLEM_MEDIA_TYPE = "application/problem+json"


class AppError(Exception):
    """An expected failure; `status` is what the client gets, `errors` lists per-field problems.

    `said`, when the error was made with `saying`, keeps the message and its values, so that a page can say the
    detail in its reader's language (the API's `detail` is the English)."""

    status: int = 500

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        said: Said | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.headers = headers
        self.said = said

    @classmethod
    def saying(cls, message: str, /, **values: object) -> Self:
        """The error whose detail is `message % values`: an English message id (marked with N_) and its values."""
        said = Said(message, values)
        return cls(said.say(), said=said)


class NotFound(AppError):
    status = 404


class Conflict(AppError):
    status = 409


class ValidationProblem(AppError):
    status = 422

    @classmethod
    def field(cls, location: tuple[str | int, ...], message: str) -> ValidationProblem:
        """One invalid field, reported like a request validation error."""
        return cls(
            f"{'.'.join(map(str, location))}: {message}",
            errors=[{"location": list(location), "message": message, "type": "value_error"}],
        )


class NotReady(AppError):
    status = 503


class Unauthorized(AppError):
    """No API key, an unknown one or a revoked one."""

    status = 401

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="techmatch"'})


class Forbidden(AppError):
    """A valid key without the scope the route needs."""

    status = 403


class PayloadTooLarge(AppError):
    status = 413


class BadRequest(AppError):
    """A body that cannot be read at all (an upload that is not the file type it claims)."""

    status = 400


class UnsupportedMediaType(AppError):
    status = 415


class TooManyRequests(AppError):
    status = 429

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


# Stable problem types (RFC 9457), relative URIs documented in docs/integration.md; clients
# branch on `type`, never on `detail`, which is for people and may change wording.
PROBLEM_TYPES: dict[int, str] = {
    400: "/problems/bad-request",
    401: "/problems/unauthorized",
    403: "/problems/forbidden",
    404: "/problems/not-found",
    405: "/problems/method-not-allowed",
    409: "/problems/conflict",
    413: "/problems/payload-too-large",
    415: "/problems/unsupported-media-type",
    422: "/problems/validation",
    429: "/problems/rate-limited",
    431: "/problems/headers-too-large",
    500: "/problems/internal",
    503: "/problems/not-ready",
}


def problem_type(status: int) -> str:
    return PROBLEM_TYPES.get(status, "about:blank")
