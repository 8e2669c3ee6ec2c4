"""Read data sets in the benchmark format (FORMAT.md) or the BEIR format into plain records."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from matching.errors import DatasetError
from matching.types import Constraints, Need, Technology

BENCHMARK_FILES = ("providers.jsonl", "technologies.jsonl", "companies.jsonl", "needs.jsonl")


@dataclass(frozen=True, slots=True)
class ProviderRecord:
    ref: str
    name: str
    country: str | None = None
    region: str | None = None
    description: str = ""
    website: str | None = None


@dataclass(frozen=True, slots=True)
class TechnologyRecord:
    ref: str
    provider_ref: str | None
    title: str
    description: str
    categories: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    trl: int | None = None
    price_min_eur: int | None = None
    price_max_eur: int | None = None
    languages: tuple[str, ...] = ()
    regions_served: tuple[str, ...] = ()
    # Optional in the format (the shared benchmark sets have none): what the offering's users must be able to do.
    competences: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CompanyRecord:
    ref: str
    name: str
    sector: str | None = None
    employees: int | None = None
    region: str | None = None
    description: str = ""
    # Optional in the format: what the company's people can already do.
    skills: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NeedRecord:
    ref: str
    company_ref: str | None
    title: str
    description: str
    lang: str = "en"
    constraints: Constraints = field(default_factory=Constraints)


@dataclass(frozen=True, slots=True)
class Dataset:
    name: str
    format: Literal["benchmark", "beir"]
    providers: list[ProviderRecord]
    technologies: list[TechnologyRecord]
    companies: list[CompanyRecord]
    needs: list[NeedRecord]
    qrels: dict[str, dict[str, int]]
    pairing: dict[str, Any] | None = None
    # Needs that no offering addresses (optional offtopic.txt): they should be answered "nothing fits".
    offtopic: frozenset[str] = frozenset()


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"{path.name}: cannot read: {exc.strerror}") from exc
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DatasetError(f"{path.name}:{number}: not valid JSON: {exc.msg}") from exc
                if not isinstance(row, dict):
                    raise DatasetError(f"{path.name}:{number}: expected a JSON object")
                yield number, row
        except UnicodeDecodeError as exc:
            raise DatasetError(f"{path.name}: not UTF-8: {exc.reason}") from exc


def _field(row: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...] = str) -> Any:
    if key not in row:
        raise DatasetError(f"{where}: missing field {key!r}")
    value = row[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise DatasetError(f"{where}: field {key!r} has the wrong type ({type(value).__name__})")
    return value


def _optional(row: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    value = row.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise DatasetError(f"{where}: field {key!r} has the wrong type ({type(value).__name__})")
    return value


def _strings(row: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = row.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DatasetError(f"{where}: field {key!r} must be a list of strings")
    return tuple(value)


def _unique(refs: list[str], filename: str) -> None:
    seen: set[str] = set()
    for ref in refs:
        if ref in seen:
            raise DatasetError(f"{filename}: duplicate id {ref!r}")
        seen.add(ref)


def _read_qrels(path: Path, *, query_col: int = 0, doc_col: int = 1, rel_col: int = 2) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            for number, row in enumerate(csv.reader(handle, delimiter="\t"), start=1):
                if not row or (number == 1 and not row[rel_col].strip().lstrip("-").isdigit()):
                    continue  # header line
                try:
                    relevance = int(row[rel_col])
                except (IndexError, ValueError) as exc:
                    raise DatasetError(f"{path.name}:{number}: expected id, id, relevance") from exc
                if relevance > 0:
                    qrels.setdefault(row[query_col], {})[row[doc_col]] = relevance
    except OSError as exc:
        raise DatasetError(f"{path.name}: cannot read: {exc.strerror}") from exc
    return qrels


def _load_benchmark(path: Path) -> Dataset:
    providers = []
    for n, row in _read_jsonl(path / "providers.jsonl"):
        where = f"providers.jsonl:{n}"
        providers.append(
            ProviderRecord(
                ref=_field(row, "id", where),
                name=_field(row, "name", where),
                country=_optional(row, "country", where, str),
                region=_optional(row, "region", where, str),
                description=_optional(row, "description", where, str) or "",
                website=_optional(row, "website", where, str),
            )
        )
    technologies = []
    for n, row in _read_jsonl(path / "technologies.jsonl"):
        where = f"technologies.jsonl:{n}"
        price = _optional(row, "price_eur", where, dict)
        if price is not None and not all(isinstance(price.get(b), int) for b in ("min", "max")):
            raise DatasetError(f"{where}: price_eur needs integer 'min' and 'max'")
        technologies.append(
            TechnologyRecord(
                ref=_field(row, "id", where),
                provider_ref=_field(row, "provider_id", where),
                title=_field(row, "title", where),
                description=_field(row, "description", where),
                categories=_strings(row, "categories", where),
                sectors=_strings(row, "sectors", where),
                trl=_optional(row, "trl", where, int),
                price_min_eur=price["min"] if price else None,
                price_max_eur=price["max"] if price else None,
                languages=_strings(row, "languages", where),
                regions_served=_strings(row, "regions_served", where),
                competences=_strings(row, "competences", where),
            )
        )
    companies = []
    for n, row in _read_jsonl(path / "companies.jsonl"):
        where = f"companies.jsonl:{n}"
        companies.append(
            CompanyRecord(
                ref=_field(row, "id", where),
                name=_field(row, "name", where),
                sector=_optional(row, "sector", where, str),
                employees=_optional(row, "employees", where, int),
                region=_optional(row, "region", where, str),
                description=_optional(row, "description", where, str) or "",
                skills=_strings(row, "skills", where),
            )
        )
    needs = []
    for n, row in _read_jsonl(path / "needs.jsonl"):
        where = f"needs.jsonl:{n}"
        raw = _optional(row, "constraints", where, dict) or {}
        languages = _strings(raw, "languages", where) or None
        needs.append(
            NeedRecord(
                ref=_field(row, "id", where),
                company_ref=_field(row, "company_id", where),
                title=_field(row, "title", where),
                description=_field(row, "description", where),
                lang=_optional(row, "lang", where, str) or "en",
                constraints=Constraints(
                    budget_eur_max=_optional(raw, "budget_eur_max", where, int),
                    min_trl=_optional(raw, "min_trl", where, int),
                    region=_optional(raw, "region", where, str),
                    languages=languages,
                ),
            )
        )
    for records, filename in (
        (providers, "providers.jsonl"),
        (technologies, "technologies.jsonl"),
        (companies, "companies.jsonl"),
        (needs, "needs.jsonl"),
    ):
        _unique([r.ref for r in records], filename)
    provider_refs = {p.ref for p in providers}
    for t in technologies:
        if t.provider_ref not in provider_refs:
            raise DatasetError(f"technologies.jsonl: {t.ref} names unknown provider {t.provider_ref!r}")
    company_refs = {c.ref for c in companies}
    for need in needs:
        if need.company_ref not in company_refs:
            raise DatasetError(f"needs.jsonl: {need.ref} names unknown company {need.company_ref!r}")
    qrels_path = path / "qrels.tsv"
    qrels = _read_qrels(qrels_path) if qrels_path.is_file() else {}
    pairing = None
    if (path / "pairing.json").is_file():
        try:
            pairing = json.loads((path / "pairing.json").read_text("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise DatasetError(f"pairing.json: not valid JSON: {exc}") from exc
    return Dataset(
        name=path.name,
        format="benchmark",
        providers=providers,
        technologies=technologies,
        companies=companies,
        needs=needs,
        qrels=qrels,
        pairing=pairing,
        offtopic=_read_offtopic(path / "offtopic.txt", {n.ref for n in needs}, qrels),
    )


def _read_offtopic(path: Path, need_refs: set[str], qrels: dict[str, dict[str, int]]) -> frozenset[str]:
    """The off-topic need ids, one a line; each must be a need of the data set without relevance labels."""
    if not path.is_file():
        return frozenset()
    try:
        refs = [line.strip() for line in path.read_text("utf-8").splitlines() if line.strip()]
    except UnicodeDecodeError as exc:
        raise DatasetError(f"offtopic.txt: not UTF-8: {exc}") from exc
    for ref in refs:
        if ref not in need_refs:
            raise DatasetError(f"offtopic.txt names unknown need {ref!r}")
        if any(grade > 0 for grade in qrels.get(ref, {}).values()):
            raise DatasetError(f"offtopic.txt names {ref}, which has relevant offerings in qrels.tsv")
    return frozenset(refs)


def _load_beir(path: Path) -> Dataset:
    technologies = []
    for n, row in _read_jsonl(path / "corpus.jsonl"):
        where = f"corpus.jsonl:{n}"
        technologies.append(
            TechnologyRecord(
                ref=str(_field(row, "_id", where, (str, int))),
                provider_ref=None,
                title=_optional(row, "title", where, str) or "",
                description=_field(row, "text", where),
            )
        )
    _unique([t.ref for t in technologies], "corpus.jsonl")
    qrels = _read_qrels(path / "qrels" / "test.tsv")
    needs = []
    for n, row in _read_jsonl(path / "queries.jsonl"):
        where = f"queries.jsonl:{n}"
        ref = str(_field(row, "_id", where, (str, int)))
        if ref in qrels:
            needs.append(NeedRecord(ref=ref, company_ref=None, title="", description=_field(row, "text", where)))
    return Dataset(
        name=path.name,
        format="beir",
        providers=[],
        technologies=technologies,
        companies=[],
        needs=needs,
        qrels=qrels,
    )


def load_dataset(path: Path) -> Dataset:
    """The data set in `path`, whichever of the two formats it is in."""
    if not path.is_dir():
        raise DatasetError(f"{path}: not a directory")
    if all((path / f).is_file() for f in BENCHMARK_FILES):
        return _load_benchmark(path)
    if (path / "corpus.jsonl").is_file() and (path / "queries.jsonl").is_file():
        if not (path / "qrels" / "test.tsv").is_file():
            raise DatasetError(f"{path.name}: BEIR layout without qrels/test.tsv")
        return _load_beir(path)
    raise DatasetError(
        f"{path.name}: neither the benchmark format ({', '.join(BENCHMARK_FILES)}) "
        "nor BEIR (corpus.jsonl, queries.jsonl, qrels/test.tsv)"
    )


@dataclass(frozen=True, slots=True)
class EngineRecords:
    """A data set as engine records with positional int ids, and the maps back to its string refs."""

    technologies: list[Technology]
    needs: list[Need]
    technology_refs: dict[int, str]
    need_refs: dict[int, str]
    provider_ids: dict[str, int]
    company_ids: dict[str, int]


def engine_records(dataset: Dataset) -> EngineRecords:
    """Engine records straight from a data set, for measuring the engine without a database."""
    provider_ids = {p.ref: i for i, p in enumerate(dataset.providers, start=1)}
    provider_names = {p.ref: p.name for p in dataset.providers}
    company_ids = {c.ref: i for i, c in enumerate(dataset.companies, start=1)}
    companies = {c.ref: c for c in dataset.companies}
    technologies = [
        Technology(
            id=i,
            title=t.title,
            description=t.description,
            provider_id=provider_ids.get(t.provider_ref or ""),
            provider_name=provider_names.get(t.provider_ref or ""),
            categories=t.categories,
            sectors=t.sectors,
            trl=t.trl,
            price_min_eur=t.price_min_eur,
            price_max_eur=t.price_max_eur,
            languages=t.languages,
            regions_served=t.regions_served,
            competences=t.competences,
        )
        for i, t in enumerate(dataset.technologies, start=1)
    ]
    needs = []
    for i, n in enumerate(dataset.needs, start=1):
        company = companies.get(n.company_ref or "")
        needs.append(
            Need(
                id=i,
                title=n.title,
                description=n.description,
                lang=n.lang,
                constraints=n.constraints,
                company_id=company_ids.get(n.company_ref or ""),
                company_name=company.name if company else None,
                sector=company.sector if company else None,
                skills=company.skills if company else (),
            )
        )
    return EngineRecords(
        technologies=technologies,
        needs=needs,
        technology_refs={i: t.ref for i, t in enumerate(dataset.technologies, start=1)},
        need_refs={i: n.ref for i, n in enumerate(dataset.needs, start=1)},
        provider_ids=provider_ids,
        company_ids=company_ids,
    )
