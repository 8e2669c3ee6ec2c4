"""Load a data set (benchmark or BEIR format) into the database, idempotently by ref, then sync the index."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.orm import Session, sessionmaker

from app.catalogue.records import need_records, technology_records
from app.catalogue.repository import (
    CatalogueRepository,
    CompanyRepository,
    NeedRepository,
    ProviderRepository,
    TechnologyRepository,
    needs_of,
    technologies_of,
)
from app.core.database import unit_of_work
from app.indexing.embeddings import ProgressCallback, missing_count, need_vectors, technology_vectors
from app.indexing.service import SyncResult, sync_index
from app.models import DEFAULT_TENANT, Company, Need, Provider, Technology
from app.replication.log import record_change
from matching.encoders.base import Encoder
from matching.evaluation.datasets import Dataset
from matching.matcher import Matcher
from matching.retrieval.texts import need_text, technology_text


@dataclass(slots=True)
class LoadReport:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    sync: SyncResult | None = None

    @property
    def changed(self) -> bool:
        return bool(+self.created or +self.updated)


class _Steps:
    """Progress for each loading step: a rich bar, or nothing."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress

    @contextmanager
    def step(self, description: str, total: int) -> Iterator[Callable[[], None]]:
        """A task of `total` units; the block calls what it gets once per unit done."""
        progress = self.progress
        if progress is None:
            yield lambda: None
            return
        task = progress.add_task(description, total=total)
        yield lambda: progress.advance(task)

    def counter(self, description: str) -> tuple[Callable[[int], None], Callable[[int], None]]:
        """Callbacks for a step whose size is known later: (start with total, advance by n)."""
        progress = self.progress
        tasks: list[TaskID] = []

        def start(total: int) -> None:
            if progress is not None:
                tasks.append(progress.add_task(description, total=total))

        def advance(count: int) -> None:
            if progress is not None and tasks:
                progress.advance(tasks[0], count)

        return start, advance


def load_dataset(
    factory: sessionmaker[Session],
    *,
    dataset: Dataset,
    matcher: Matcher,
    index_dir: Path,
    batch_size: int = 64,
    show_progress: bool = False,
    console: Console | None = None,
) -> LoadReport:
    """Upsert every record by ref and store the changed rows' vectors (one transaction: serving processes
    apply the logged change from those vectors), then bring this index in line (another)."""
    progress = _progress(console) if show_progress else None
    steps = _Steps(progress)
    with progress if progress is not None else nullcontext():
        on_missing, on_encoded = steps.counter("encoding")
        with unit_of_work(factory) as session:
            report = upsert_dataset(
                session,
                dataset=dataset,
                steps=steps,
                encoder=matcher.encoder,
                batch_size=batch_size,
                on_missing=on_missing,
                on_encoded=on_encoded,
            )
        with unit_of_work(factory) as session:
            report.sync = sync_index(
                session,
                matcher=matcher,
                index_dir=index_dir,
                batch_size=batch_size,
                on_missing=on_missing,
                on_encoded=on_encoded,
            )
    return report


def upsert_dataset(
    session: Session,
    *,
    dataset: Dataset,
    steps: _Steps | None = None,
    encoder: Encoder | None = None,
    batch_size: int = 64,
    on_missing: ProgressCallback | None = None,
    on_encoded: ProgressCallback | None = None,
) -> LoadReport:
    """Create or update every record of `dataset` by ref; on change, log the touched rows (bumping the
    catalogue version), after storing their vectors when given an `encoder`."""
    steps = steps or _Steps(None)
    report = LoadReport()
    touched: dict[str, set[int]] = {kind: set() for kind in ("providers", "technologies", "companies", "needs")}
    placeholder = _placeholder_ref(dataset.name)

    providers = [
        (
            p.ref,
            {
                "name": p.name,
                "country": p.country,
                "region": p.region,
                "description": p.description,
                "website": p.website,
            },
        )
        for p in dataset.providers
    ]
    if any(t.provider_ref is None for t in dataset.technologies):
        providers.append(
            (
                placeholder,
                {
                    "name": f"{dataset.name} corpus",
                    "description": ("Placeholder provider for records imported without one."),
                },
            )
        )
    provider_ids = _upsert(
        session, ProviderRepository(session), Provider, providers, "providers", report, steps, touched
    )

    technologies = [
        (
            t.ref,
            {
                "provider_id": provider_ids[t.provider_ref or placeholder],
                "title": t.title,
                "description": t.description,
                "categories": list(t.categories),
                "sectors": list(t.sectors),
                "trl": t.trl,
                "price_min_eur": t.price_min_eur,
                "price_max_eur": t.price_max_eur,
                "languages": list(t.languages),
                "regions_served": list(t.regions_served),
                "competences": list(t.competences),
            },
        )
        for t in dataset.technologies
    ]
    _upsert(
        session,
        TechnologyRepository(session),
        Technology,
        technologies,
        "technologies",
        report,
        steps,
        touched,
    )

    companies = [
        (
            c.ref,
            {
                "name": c.name,
                "sector": c.sector,
                "employees": c.employees,
                "region": c.region,
                "description": c.description,
                "skills": list(c.skills),
            },
        )
        for c in dataset.companies
    ]
    if any(n.company_ref is None for n in dataset.needs):
        companies.append(
            (
                placeholder,
                {
                    "name": f"{dataset.name} queries",
                    "description": ("Placeholder company for needs imported without one."),
                },
            )
        )
    company_ids = _upsert(session, CompanyRepository(session), Company, companies, "companies", report, steps, touched)

    needs = [
        (
            n.ref,
            {
                "company_id": company_ids[n.company_ref or placeholder],
                "title": n.title,
                "description": n.description,
                "lang": n.lang,
                "budget_eur_max": n.constraints.budget_eur_max,
                "min_trl": n.constraints.min_trl,
                "region": n.constraints.region,
                "languages": list(n.constraints.languages) if n.constraints.languages else None,
            },
        )
        for n in dataset.needs
    ]
    _upsert(session, NeedRepository(session), Need, needs, "needs", report, steps, touched)

    if report.changed:
        # The engine shows provider and company names and ranks by the company's sector.
        technology_ids = touched["technologies"] | {t.id for t in technologies_of(session, touched["providers"])}
        need_ids = touched["needs"] | {n.id for n in needs_of(session, touched["companies"])}
        if encoder is not None:
            changed_technologies = technology_records(session, technology_ids)
            changed_needs = need_records(session, need_ids)
            if on_missing is not None:
                texts = [technology_text(t) for t in changed_technologies] + [need_text(n) for n in changed_needs]
                on_missing(missing_count(session, encoder=encoder, texts=texts))
            technology_vectors(
                session,
                encoder=encoder,
                technologies=changed_technologies,
                batch_size=batch_size,
                on_encoded=on_encoded,
            )
            need_vectors(session, encoder=encoder, needs=changed_needs, batch_size=batch_size, on_encoded=on_encoded)
        record_change(session, technologies=technology_ids, needs=need_ids)
    return report


def _upsert(
    session: Session,
    repository: CatalogueRepository[Any],
    model: type[Any],
    records: Sequence[tuple[str, dict[str, Any]]],
    kind: str,
    report: LoadReport,
    steps: _Steps,
    touched: dict[str, set[int]],
) -> dict[str, int]:
    # Data sets load into the default tenant; refs are unique per tenant, so other tenants' rows stay apart.
    existing = repository.by_refs({ref for ref, _ in records}, tenant=DEFAULT_TENANT)
    changed: list[str] = []
    with steps.step(kind, total=len(records)) as advance:
        for ref, values in records:
            row = existing.get(ref)
            if row is None:
                existing[ref] = row = model(ref=ref, **values)
                session.add(row)
                report.created[kind] += 1
                changed.append(ref)
            elif any(getattr(row, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(row, name, value)
                report.updated[kind] += 1
                changed.append(ref)
            else:
                report.unchanged[kind] += 1
            advance()
    session.flush()
    touched[kind].update(existing[ref].id for ref in changed)
    return {ref: row.id for ref, row in existing.items()}


def _placeholder_ref(dataset_name: str) -> str:
    return "placeholder:" + (re.sub(r"\s+", "-", dataset_name.strip()) or "dataset")


def _progress(console: Console | None) -> Progress:
    return Progress(
        TextColumn("{task.description:<13}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
