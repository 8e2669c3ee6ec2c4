"""`Prefer: respond-async` (RFC 7240) on routes that can run as a job, and their 202 answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header
from fastapi.responses import JSONResponse

from app.jobs.schemas import JobRead
from app.models import Job

_ASYNC = "respond-async"


def prefers_async(
    prefer: Annotated[
        str | None,
        Header(
            description=(
                "`respond-async`: queue the work as a job and answer 202 at once with the job "
                "(GET /api/v1/jobs/{id} reports its progress); without it the request waits for the result"
            ),
        ),
    ] = None,
) -> bool:
    if not prefer:
        return False
    tokens = {part.split("=", 1)[0].strip().lower() for part in prefer.split(",") for part in part.split(";")}
    return _ASYNC in tokens


PreferAsyncDep = Annotated[bool, Depends(prefers_async)]

ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {
        "model": JobRead,
        "description": "queued as a job (with `Prefer: respond-async`); Location names the job",
    }
}


def accepted(job: Job) -> JSONResponse:
    """202 with the queued job, its URL in Location, and the preference acknowledged."""
    return JSONResponse(
        JobRead.of(job).model_dump(mode="json"),
        status_code=202,
        headers={"Location": f"/api/v1/jobs/{job.id}", "Preference-Applied": _ASYNC},
    )
