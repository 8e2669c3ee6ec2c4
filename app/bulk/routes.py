"""Routes for bulk import (CSV, XLSX, JSON Lines uploads) and export of each catalogue resource."""

# No `from __future__ import annotations`: the routes are built in a loop and FastAPI must see
# each one's scope dependency as an object, not as the name of a loop variable.

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, Response, UploadFile

from app.bulk import service as bulk
from app.bulk.files import MEDIA_TYPES
from app.bulk.formats import FORMATS_BY_SUFFIX, FileFormat, Resource
from app.core.auth import AnyKeyDep, CatalogueWriteDep, NeedsWriteDep, ProfileReadDep
from app.core.deps import SessionDep, SettingsDep, get_matcher
from app.core.errors import PayloadTooLarge, UnsupportedMediaType
from app.core.work import BlockingWorkDep

router = APIRouter(tags=["bulk"])

_CONTENT_TYPES = {
    "text/csv": FileFormat.csv,
    "application/csv": FileFormat.csv,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": FileFormat.xlsx,
    "application/jsonl": FileFormat.jsonl,
    "application/x-ndjson": FileFormat.jsonl,
    "application/x-jsonlines": FileFormat.jsonl,
}
_FORMAT_HELP = "csv, xlsx or jsonl; default: from the file name's extension, then its content type"


def _file_format(upload: UploadFile, given: FileFormat | None) -> FileFormat:
    if given is not None:
        return given
    name = (upload.filename or "").lower()
    for extension, file_format in FORMATS_BY_SUFFIX.items():
        if name.endswith(extension):
            return file_format
    content_type = (upload.content_type or "").split(";")[0].strip().lower()
    if content_type in _CONTENT_TYPES:
        return _CONTENT_TYPES[content_type]
    raise UnsupportedMediaType(
        f"cannot tell the format of {upload.filename or 'the upload'!r} ({content_type or 'no content type'}); "
        "name it .csv, .xlsx or .jsonl or pass format=csv|xlsx|jsonl"
    )


def _read_upload(upload: UploadFile, *, max_bytes: int) -> bytes:
    # A worker thread reads the spooled upload; the body's size was capped while it streamed in.
    data = upload.file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the file is larger than {max_bytes} bytes; split it")
    return data


def _import_route(resource: Resource, scope_dep: Any) -> Callable[..., Any]:
    # A plain def: parsing, validating, writing and encoding run in a worker thread, one of at most
    # `blocking_work_threads` (app/core/work.py), never on the event loop.
    def import_resource(
        principal: scope_dep,  # type: ignore[valid-type]
        _turn: BlockingWorkDep,
        request: Request,
        session: SessionDep,
        settings: SettingsDep,
        file: Annotated[UploadFile, File(description="the spreadsheet or JSON Lines file; header row first")],
        file_format: Annotated[FileFormat | None, Query(alias="format", description=_FORMAT_HELP)] = None,
        dry_run: Annotated[bool, Query(description="validate only; write nothing")] = False,
    ) -> bulk.ImportReport:
        chosen = _file_format(file, file_format)
        data = _read_upload(file, max_bytes=settings.import_max_bytes)
        # A dry run needs no index; a write answers 503 while the index is not loaded.
        matcher = None if dry_run else get_matcher(request)
        return bulk.import_file(
            session,
            resource=resource,
            data=data,
            file_format=chosen,
            tenant=principal.tenant,
            settings=settings,
            matcher=matcher,
            dry_run=dry_run,
        )

    import_resource.__doc__ = (
        f"Import {resource.value} from CSV, XLSX or JSON Lines. A row with an id updates that row (exports name "
        "rows without a ref by id); a row with a ref updates the row with that ref or creates it; a row with "
        "neither is created, each time (counted in created_without_ref). Every row is validated first; any "
        "problem answers 422 with all of them as {row, column, problem} and nothing is written."
    )
    import_resource.__name__ = f"import_{resource.value}"
    return import_resource


def _export_route(resource: Resource, scope_dep: Any) -> Callable[..., Any]:
    def export_resource(
        principal: scope_dep,  # type: ignore[valid-type]
        _turn: BlockingWorkDep,
        session: SessionDep,
        file_format: Annotated[FileFormat, Query(alias="format", description="csv, xlsx or jsonl")] = FileFormat.csv,
    ) -> Response:
        data = bulk.export_file(session, resource=resource, file_format=file_format, tenant=principal.tenant)
        filename = f"{resource.value}.{file_format.value}"
        return Response(
            content=data,
            media_type=MEDIA_TYPES[file_format],
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    export_resource.__doc__ = (
        f"The tenant's {resource.value} as a file that imports back unchanged: rows by ref, rows without a ref "
        "by id; spreadsheet cells that would start a formula (= + - @ tab CR) are prefixed with an apostrophe."
    )
    export_resource.__name__ = f"export_{resource.value}"
    return export_resource


_SCOPES: dict[Resource, tuple[Any, Any]] = {
    Resource.providers: (CatalogueWriteDep, AnyKeyDep),
    Resource.technologies: (CatalogueWriteDep, AnyKeyDep),
    Resource.companies: (NeedsWriteDep, ProfileReadDep),
    Resource.needs: (NeedsWriteDep, ProfileReadDep),
}

for _resource, (_write, _read) in _SCOPES.items():
    router.add_api_route(
        f"/imports/{_resource.value}",
        _import_route(_resource, _write),
        methods=["POST"],
        response_model=bulk.ImportReport,
        summary=f"Import {_resource.value}",
        responses={
            400: {"description": "the file is not what it claims (binary as CSV, not UTF-8, a broken workbook)"},
            413: {"description": "the file, its rows or a workbook's parts are over the import limits"},
            415: {"description": "the file's format is not CSV, XLSX or JSON Lines"},
        },
    )
    router.add_api_route(
        f"/exports/{_resource.value}",
        _export_route(_resource, _read),
        methods=["GET"],
        summary=f"Export {_resource.value}",
        response_class=Response,
        responses={200: {"content": {media.split(";")[0]: {} for media in MEDIA_TYPES.values()}}},
    )
