"""Bulk import and export of providers, technologies, companies and needs: all rows valid, or nothing written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.orm import Session

from app.bulk.files import (
    LIST_SEPARATOR,
    Problem,
    RawRow,
    RawTable,
    read_table,
    restore,
    write_csv,
    write_jsonl,
    write_xlsx,
)
from app.bulk.formats import FileFormat, Resource
from app.bulk.repository import BulkRepository
from app.catalogue.schemas import CompanyCreate, NeedCreate, ProviderCreate, TechnologyCreate
from app.catalogue.service import index_needs, index_technologies
from app.core.errors import ValidationProblem
from app.core.settings import Settings
from app.models import Company, Need, Provider, Technology
from matching.matcher import Matcher

# A report longer than this is cut; the detail says how many problems there were in all.
MAX_REPORTED_PROBLEMS = 1000
CONSTRAINT_COLUMNS = ("budget_eur_max", "min_trl", "region", "languages")


@dataclass(frozen=True, slots=True)
class _Spec:
    model: type[Provider] | type[Technology] | type[Company] | type[Need]
    create: type[BaseModel]
    word: str
    # Spreadsheet columns, in export order.
    columns: tuple[str, ...]
    required: tuple[str, ...]
    lists: frozenset[str] = frozenset()
    integers: frozenset[str] = frozenset()
    # The parent a row names by ref or by database id: (ref column, id column, model, word).
    parent: tuple[str, str, type[Provider] | type[Company], str] | None = None


SPECS: dict[Resource, _Spec] = {
    Resource.providers: _Spec(
        model=Provider,
        create=ProviderCreate,
        word="provider",
        columns=("ref", "name", "country", "region", "description", "website", "id"),
        required=("name",),
    ),
    Resource.technologies: _Spec(
        model=Technology,
        create=TechnologyCreate,
        word="technology",
        columns=(
            "ref",
            "provider_ref",
            "provider_id",
            "title",
            "description",
            "categories",
            "sectors",
            "trl",
            "price_min_eur",
            "price_max_eur",
            "languages",
            "regions_served",
            "competences",
            "id",
        ),
        required=("title",),
        lists=frozenset({"categories", "sectors", "languages", "regions_served", "competences"}),
        integers=frozenset({"provider_id", "trl", "price_min_eur", "price_max_eur", "id"}),
        parent=("provider_ref", "provider_id", Provider, "provider"),
    ),
    Resource.companies: _Spec(
        model=Company,
        create=CompanyCreate,
        word="company",
        columns=("ref", "name", "sector", "employees", "region", "description", "skills", "id"),
        required=("name",),
        lists=frozenset({"skills"}),
        integers=frozenset({"employees", "id"}),
    ),
    Resource.needs: _Spec(
        model=Need,
        create=NeedCreate,
        word="need",
        columns=(
            "ref",
            "company_ref",
            "company_id",
            "title",
            "description",
            "lang",
            "budget_eur_max",
            "min_trl",
            "region",
            "languages",
            "id",
        ),
        required=("title",),
        lists=frozenset({"languages"}),
        integers=frozenset({"company_id", "budget_eur_max", "min_trl", "id"}),
        parent=("company_ref", "company_id", Company, "company"),
    ),
}


class ImportReport(BaseModel):
    resource: str
    format: str
    dry_run: bool
    rows: int
    created: int
    updated: int
    unchanged: int
    created_without_ref: int = Field(
        description="rows with neither ref nor id: each is created anew, so importing them twice makes two rows"
    )


@dataclass(slots=True)
class _Row:
    """One valid row: its model-ready columns, the ones the file gave, and what it will change."""

    row: int
    ref: str | None
    # The database id a row names (exports carry it for rows without a ref): it updates that row.
    id: int | None
    columns: dict[str, Any]
    given: set[str]
    target: Any = None
    parent: Any = None
    changes: dict[str, Any] = field(default_factory=dict)


# Reading a file into canonical rows (spreadsheet column names, Python values)


def _canonical_from_sheet(spec: _Spec, raw: RawRow) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in raw.values.items():
        if name not in spec.columns:
            continue  # reported once, for the header
        if isinstance(value, str):
            value = restore(value.strip())
            if name in spec.lists:
                value = [item.strip() for item in value.split(LIST_SEPARATOR) if item.strip()]
            value = value if value != "" else None
        elif value is not None and name not in spec.integers and name not in spec.lists:
            value = str(value)  # a ref or a name typed as a number in a spreadsheet
        elif value is not None and name in spec.lists:
            value = [str(value)]
        values[name] = value
    return values


def _canonical_from_jsonl(
    resource: Resource, spec: _Spec, raw: RawRow
) -> tuple[dict[str, Any], dict[str, str], list[Problem]]:
    """The benchmark format's names mapped to spreadsheet columns (FORMAT.md); those names are accepted too."""
    values: dict[str, Any] = {}
    # A problem with an absent field is reported under the benchmark's name for it.
    names: dict[str, str] = {"ref": "id"} | ({spec.parent[0]: spec.parent[1]} if spec.parent else {})
    problems: list[Problem] = []

    def put(column: str, value: Any, source: str) -> None:
        values[column] = value
        names[column] = source

    for key, value in raw.values.items():
        if key == "id" and isinstance(value, int) and not isinstance(value, bool):
            put("id", value, key)  # an export's row without a ref, named by its database id
        elif key == "id":
            put("ref", value, key)
        elif spec.parent is not None and key == spec.parent[1] and isinstance(value, str):
            put(spec.parent[0], value, key)  # the benchmark names a parent by its ref
        elif resource is Resource.technologies and key == "price_eur":
            if isinstance(value, dict) and set(value) <= {"min", "max"}:
                put("price_min_eur", value.get("min"), "price_eur.min")
                put("price_max_eur", value.get("max"), "price_eur.max")
            elif value is not None:
                problems.append(Problem(raw.row, key, 'expected {"min": euros, "max": euros} or null'))
        elif resource is Resource.needs and key == "constraints":
            if isinstance(value, dict):
                for name, inner in value.items():
                    if name in CONSTRAINT_COLUMNS:
                        put(name, inner, f"constraints.{name}")
                    else:
                        problems.append(Problem(raw.row, f"constraints.{name}", "unknown field"))
            elif value is not None:
                problems.append(Problem(raw.row, key, "expected an object of constraints or null"))
        elif key in spec.columns:
            put(key, value, key)
        else:
            problems.append(Problem(raw.row, key, "unknown field"))
    return values, names, problems


def _header_problems(spec: _Spec, header: list[str]) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for name in header:
        if not name:
            continue
        if name in seen:
            problems.append(Problem(1, name, "the column appears twice"))
        elif name not in spec.columns:
            problems.append(Problem(1, name, f"unknown column; the columns are: {', '.join(spec.columns)}"))
        seen.add(name)
    for name in spec.required:
        if name not in seen:
            problems.append(Problem(1, name, "required column is missing"))
    if spec.parent is not None and not {spec.parent[0], spec.parent[1]} & seen:
        missing = f"required column is missing ({spec.parent[0]} or {spec.parent[1]})"
        problems.append(Problem(1, spec.parent[0], missing))
    return problems


# Validating one row with the API's own Create schema


def _payload(resource: Resource, spec: _Spec, values: dict[str, Any]) -> dict[str, Any]:
    payload = {k: v for k, v in values.items() if v is not None and k != "id"}
    if spec.parent is not None:
        payload.pop(spec.parent[0], None)
        payload.pop(spec.parent[1], None)
        payload[f"{spec.parent[3]}_id"] = 0  # resolved against the database once every row is valid
    if resource is Resource.needs:
        payload["constraints"] = {name: payload.pop(name) for name in CONSTRAINT_COLUMNS if name in payload}
    return payload


def _error_column(error: ErrorDetails) -> tuple[str, str]:
    location = [part for part in error["loc"] if part != "constraints"]
    message = error["msg"].removeprefix("Value error, ")
    # A check across fields (a model validator) has no location; its message names the column first.
    column = str(location[0]) if location else message.split(" ", 1)[0]
    if len(location) > 1 and isinstance(location[1], int):
        message = f"item {location[1] + 1}: {message}"
    return column, message


def _validate_row(
    resource: Resource, spec: _Spec, raw: RawRow, values: dict[str, Any], names: dict[str, str], *, max_chars: int
) -> tuple[_Row | None, list[Problem]]:
    problems: list[Problem] = []
    payload = _payload(resource, spec, values)
    model: BaseModel | None = None
    try:
        model = spec.create.model_validate(payload)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            column, message = _error_column(error)
            problems.append(Problem(raw.row, names.get(column, column) or None, message))
    for column, value in values.items():
        if isinstance(value, str) and len(value) > max_chars:
            too_long = f"at most {max_chars} characters allowed, got {len(value)}"
            problems.append(Problem(raw.row, names.get(column, column), too_long))
    if spec.parent is not None:
        ref_column, id_column, _, word = spec.parent
        by_ref, by_id = values.get(ref_column), values.get(id_column)
        if by_ref is None and by_id is None:
            missing = f"the {word} is missing ({ref_column} or {id_column})"
            problems.append(Problem(raw.row, names.get(ref_column, ref_column), missing))
        elif by_ref is not None and by_id is not None:
            both = f"give {ref_column} or {id_column}, not both"
            problems.append(Problem(raw.row, names.get(id_column, id_column), both))
        elif by_id is not None and (isinstance(by_id, bool) or not isinstance(by_id, int)):
            try:
                values[id_column] = int(str(by_id))
            except ValueError:
                problems.append(Problem(raw.row, names.get(id_column, id_column), "expected a whole number"))
    row_id = values.get("id")
    if row_id is not None and (isinstance(row_id, bool) or not isinstance(row_id, int) or row_id < 1):
        problems.append(Problem(raw.row, names.get("id", "id"), "expected the id of an existing row (a whole number)"))
        row_id = None
    if model is None or problems:
        return None, problems
    columns = model.model_dump(exclude={"constraints"})
    if resource is Resource.needs:
        constraints = model.constraints  # type: ignore[attr-defined]
        columns |= {
            "budget_eur_max": constraints.budget_eur_max,
            "min_trl": constraints.min_trl,
            "region": constraints.region,
            "languages": list(constraints.languages) if constraints.languages else None,
        }
    given = {name for name in values if name in spec.columns} - {"id"}
    if spec.parent is not None:
        given = (given - {spec.parent[0], spec.parent[1]}) | {f"{spec.parent[3]}_id"}
    ref = columns.get("ref")
    return _Row(row=raw.row, ref=ref, id=row_id, columns=columns, given=given), []


def _parse(
    resource: Resource, table: RawTable, *, max_chars: int
) -> tuple[list[tuple[_Row, dict[str, Any]]], list[Problem]]:
    spec = SPECS[resource]
    problems = list(table.problems)
    if table.header is not None:
        problems += _header_problems(spec, table.header)
    valid: list[tuple[_Row, dict[str, Any]]] = []
    first_row: dict[str, int] = {}
    first_id: dict[int, int] = {}
    for raw in table.rows:
        if table.header is not None:
            values = _canonical_from_sheet(spec, raw)
            names = {name: name for name in values}
            found: list[Problem] = []
        else:
            values, names, found = _canonical_from_jsonl(resource, spec, raw)
        row_id = values.get("id")
        if isinstance(row_id, str) and row_id.isdigit():
            row_id = values["id"] = int(row_id)  # from a CSV cell
        if isinstance(row_id, int) and row_id in first_id:
            problems.append(Problem(raw.row, names.get("id", "id"), f"id {row_id} is also on row {first_id[row_id]}"))
        elif isinstance(row_id, int):
            first_id[row_id] = raw.row
        ref = values.get("ref")
        if isinstance(ref, str) and ref in first_row:
            problems.append(Problem(raw.row, names.get("ref", "ref"), f"ref {ref!r} is also on row {first_row[ref]}"))
        elif isinstance(ref, str):
            first_row[ref] = raw.row
        row, row_problems = _validate_row(resource, spec, raw, values, names, max_chars=max_chars)
        problems += found + row_problems
        if row is not None and not found:
            valid.append((row, values))
    return valid, problems


# Checking rows against the database and each other


def _resolve(
    session: Session, resource: Resource, rows: list[tuple[_Row, dict[str, Any]]], *, tenant: str
) -> list[Problem]:
    spec = SPECS[resource]
    repository = BulkRepository(session)
    problems: list[Problem] = []
    existing = repository.by_refs(spec.model, tenant=tenant, refs={row.ref for row, _ in rows if row.ref})
    by_id = repository.by_ids(spec.model, {row.id for row, _ in rows if row.id is not None})
    for row, _ in rows:
        if row.id is None:
            row.target = existing.get(row.ref) if row.ref is not None else None
            continue
        target = by_id.get(row.id)
        if target is None or target.tenant != tenant:  # another tenant's row is as good as missing
            missing = f"no {spec.word} with id {row.id}; to create the row anew, leave its id empty"
            problems.append(Problem(row.row, "id", missing))
            continue
        holder = existing.get(row.ref) if row.ref is not None else None
        if holder is not None and holder.id != target.id:
            problems.append(Problem(row.row, "ref", f"ref {row.ref!r} belongs to {spec.word} id {holder.id}"))
            continue
        row.target = target
    if spec.parent is None:
        return problems
    ref_column, id_column, parent_model, word = spec.parent
    parents_by_ref = repository.by_refs(
        parent_model, tenant=tenant, refs={v[ref_column] for _, v in rows if v.get(ref_column) is not None}
    )
    parents_by_id = repository.by_ids(parent_model, {v[id_column] for _, v in rows if v.get(id_column) is not None})
    for row, values in rows:
        if values.get(ref_column) is not None:
            parent = parents_by_ref.get(values[ref_column])
            if parent is None:
                problems.append(Problem(row.row, ref_column, f"no {word} with ref {values[ref_column]!r}"))
                continue
        else:
            parent = parents_by_id.get(values[id_column])
            # Writes stay within the tenant: another tenant's parent is as good as missing.
            if parent is None or parent.tenant != tenant:
                problems.append(Problem(row.row, id_column, f"no {word} with id {values[id_column]}"))
                continue
        row.columns[f"{word}_id"] = parent.id
        row.parent = parent
    return problems


def _plan_changes(row: _Row) -> None:
    if row.target is None:
        return
    # Columns the file does not have are left as they are; a present but empty cell clears the value.
    # A row found by its ref keeps it; a row found by its id takes the ref the file gives it, if any.
    wanted = {
        name: value for name, value in row.columns.items() if name in row.given or (name == "ref" and row.id is None)
    }
    row.changes = {name: value for name, value in wanted.items() if getattr(row.target, name) != value}


def _report_problems(problems: list[Problem], *, rows: int) -> ValidationProblem:
    problems = sorted(problems, key=lambda p: (p.row, p.column or ""))
    shown = problems[:MAX_REPORTED_PROBLEMS]
    more = f" (the first {len(shown)} are listed)" if len(problems) > len(shown) else ""
    return ValidationProblem(
        f"{len(problems)} problem(s) in {rows} row(s); nothing was imported{more}",
        errors=[p.as_dict() for p in shown],
    )


# The use case


def import_file(
    session: Session,
    *,
    resource: Resource,
    data: bytes,
    file_format: FileFormat,
    tenant: str,
    settings: Settings,
    matcher: Matcher | None,
    dry_run: bool = False,
) -> ImportReport:
    """Validate every row; on any problem raise 422 with all of them, else upsert all rows.

    A row with an id updates that row of the tenant (exports carry it for rows without a ref); a row
    with a ref updates the tenant's row with that ref, or creates it; a row with neither is created,
    every time it is imported (the report counts them in `created_without_ref`).

    Rows are written in the caller's transaction; the index follows after it commits.
    `matcher` may be None only for a dry run.
    """
    table = read_table(
        data, file_format=file_format, max_rows=settings.import_max_rows, max_bytes=settings.import_max_bytes
    )
    valid, problems = _parse(resource, table, max_chars=settings.max_text_chars)
    problems += _resolve(session, resource, valid, tenant=tenant)
    if problems:
        raise _report_problems(problems, rows=len(table.rows))
    rows = [row for row, _ in valid]
    for row in rows:
        _plan_changes(row)
    report = ImportReport(
        resource=resource.value,
        format=file_format.value,
        dry_run=dry_run,
        rows=len(rows),
        created=sum(1 for row in rows if row.target is None),
        updated=sum(1 for row in rows if row.target is not None and row.changes),
        unchanged=sum(1 for row in rows if row.target is not None and not row.changes),
        created_without_ref=sum(1 for row in rows if row.target is None and row.ref is None),
    )
    if dry_run or not (report.created or report.updated):
        return report
    if matcher is None:
        raise ValueError("an import that writes needs the matcher to keep the index in step")
    _write(session, resource=resource, rows=rows, tenant=tenant, settings=settings, matcher=matcher)
    return report


def _write(
    session: Session, *, resource: Resource, rows: Sequence[_Row], tenant: str, settings: Settings, matcher: Matcher
) -> None:
    spec = SPECS[resource]
    written: list[Any] = []
    renamed: list[int] = []
    # The parent object goes on the row too, so the records for the index need no query per row.
    parent = spec.parent[3] if spec.parent is not None else None
    for row in rows:
        if row.target is None:
            target = spec.model(**row.columns, tenant=tenant, **({parent: row.parent} if parent else {}))
            session.add(target)
            written.append(target)
        elif row.changes:
            # The engine shows provider and company names, scores needs by their company's sector and
            # explains the gap between an offering's competences and the company's skills.
            if {"name", "sector", "skills"} & set(row.changes):
                renamed.append(row.target.id)
            for name, value in row.changes.items():
                setattr(row.target, name, value)
            if parent and f"{parent}_id" in row.changes:
                setattr(row.target, parent, row.parent)
            written.append(row.target)
    session.flush()
    # index_* log the change (and bump the catalogue version) once the vectors are stored.
    repository = BulkRepository(session)
    if resource is Resource.technologies:
        index_technologies(session, matcher=matcher, rows=written, settings=settings)
    elif resource is Resource.needs:
        index_needs(session, matcher=matcher, rows=written, settings=settings)
    elif resource is Resource.providers and renamed:
        index_technologies(session, matcher=matcher, rows=repository.technologies_of(renamed), settings=settings)
    elif resource is Resource.companies and renamed:
        index_needs(session, matcher=matcher, rows=repository.needs_of(renamed), settings=settings)


# Export


def export_rows(session: Session, *, resource: Resource, tenant: str) -> list[dict[str, Any]]:
    """The tenant's rows with spreadsheet column names; parents by ref, by id only where they have none."""
    spec = SPECS[resource]
    rows = BulkRepository(session).of_tenant(spec.model, tenant=tenant)
    out = []
    for row in rows:
        values = {name: getattr(row, name) for name in spec.columns if name not in _PARENT_COLUMNS}
        # What a re-import matches the row by: its ref, or its id where it has none.
        values["id"] = None if row.ref is not None else row.id
        if isinstance(row, Technology):
            values["provider_ref"] = row.provider.ref
            values["provider_id"] = None if row.provider.ref is not None else row.provider_id
        elif isinstance(row, Need):
            values["company_ref"] = row.company.ref
            values["company_id"] = None if row.company.ref is not None else row.company_id
        out.append({name: _plain(values.get(name)) for name in spec.columns})
    return out


_PARENT_COLUMNS = frozenset({"provider_ref", "provider_id", "company_ref", "company_id"})


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, list | tuple) else value


def _benchmark(resource: Resource, row: dict[str, Any]) -> dict[str, Any]:
    """A row in the benchmark format (FORMAT.md), so an export loads with `techmatch load` too."""
    # The benchmark's id is the ref; a row without one is named by its database id (a number).
    out: dict[str, Any] = {"id": row["ref"] if row["ref"] is not None else row["id"]}
    if resource is Resource.technologies:
        out["provider_id"] = row["provider_ref"] if row["provider_ref"] is not None else row["provider_id"]
        skip = {"ref", "id", "provider_ref", "provider_id", "price_min_eur", "price_max_eur"}
        out |= {k: v for k, v in row.items() if k not in skip}
        both_absent = row["price_min_eur"] is None and row["price_max_eur"] is None
        out["price_eur"] = None if both_absent else {"min": row["price_min_eur"], "max": row["price_max_eur"]}
    elif resource is Resource.needs:
        out["company_id"] = row["company_ref"] if row["company_ref"] is not None else row["company_id"]
        skip = {"ref", "id", "company_ref", "company_id", *CONSTRAINT_COLUMNS}
        out |= {k: v for k, v in row.items() if k not in skip}
        out["constraints"] = {name: row[name] for name in CONSTRAINT_COLUMNS}
    else:
        out |= {k: v for k, v in row.items() if k not in ("ref", "id")}
    return out


def export_file(session: Session, *, resource: Resource, file_format: FileFormat, tenant: str) -> bytes:
    rows = export_rows(session, resource=resource, tenant=tenant)
    columns = SPECS[resource].columns
    if file_format is FileFormat.csv:
        return write_csv(columns=columns, rows=rows)
    if file_format is FileFormat.xlsx:
        return write_xlsx(columns=columns, rows=rows, title=resource.value)
    return write_jsonl(_benchmark(resource, row) for row in rows)
