"""Reading the pages' forms: optional numbers, and a plain account of what is wrong with a form."""

from __future__ import annotations

from fastapi import Request
from pydantic import ValidationError

from app.core.errors import AppError
from app.web.rendering import say_problem, translate


class FormProblem(ValueError):
    """A field of a form that cannot be read (a budget that is not a number)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def optional_int(value: str | None, field: str) -> int | None:
    """A whole number typed in a form, or None when the field is left empty."""
    text = (value or "").strip().replace(" ", "").replace(".", "")
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise FormProblem(field, "must be a whole number") from None


def form_problem(request: Request, exc: Exception) -> str:
    """What is wrong with a submitted form, in the page's language, naming the fields."""
    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "form"
            parts.append(f"{translate(request, field)}: {error['msg']}")
        return "; ".join(parts)
    if isinstance(exc, FormProblem):
        return f"{translate(request, exc.field)}: {translate(request, exc.message)}"
    if isinstance(exc, AppError):
        return say_problem(request, exc)
    return translate(request, "The form could not be read.")
