"""Catalogue use cases: create, read, update and delete profiles, keeping the index in step."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.catalogue.records import need_record, technology_record
from app.catalogue.repository import (
    CatalogueRepository,
    CompanyRepository,
    NeedRepository,
    ProviderRepository,
    TechnologyRepository,
)
from app.catalogue.schemas import (
    CompanyCreate,
    CompanyUpdate,
    ConstraintsIn,
    NeedCreate,
    NeedUpdate,
    ProviderCreate,
    ProviderUpdate,
    TechnologyCreate,
    TechnologyUpdate,
)
from app.core.errors import Conflict, Forbidden, NotFound, ValidationProblem
from app.core.settings import Settings
from app.indexing.embeddings import need_vectors, technology_vectors
from app.indexing.pgvector import write_in_transaction
from app.matches.repository import MatchRepository
from app.models import DEFAULT_TENANT, Company, Need, Provider, Technology
from app.replication.log import record_change
from matching.matcher import Matcher
from matching.retrieval.texts import need_text, technology_text


def check_text_limits(data: BaseModel, *, max_chars: int, location: str = "body") -> None:
    """422 for any text field longer than the configured cap (a setting, so not in the schema)."""
    errors = [
        {
            "location": [location, name],
            "message": f"at most {max_chars} characters allowed, got {len(value)}",
            "type": "string_too_long",
        }
        for name, value in data.model_dump(exclude_unset=True).items()
        if isinstance(value, str) and len(value) > max_chars
    ]
    if errors:
        fields = ", ".join(".".join(e["location"]) for e in errors)
        raise ValidationProblem(f"text too long: {fields}", errors=errors)


RowT = TypeVar("RowT")


def _found(row: RowT | None, what: str, ident: int) -> RowT:
    if row is None:
        raise NotFound(f"no {what} with id {ident}")
    return row


def _free_ref(repository: CatalogueRepository[Any], ref: str | None, *, tenant: str, own_id: int | None = None) -> None:
    """Refs are unique per tenant: two clusters may both number their members "C1"."""
    if ref is None:
        return
    existing = repository.get_by_ref(ref, tenant=tenant)
    if existing is not None and existing.id != own_id:
        raise Conflict(f"ref {ref!r} is already used by id {existing.id}")


def _visible(tenant: str | None, shared: bool) -> str | None:
    """The tenant filter for reading providers and technologies: none when the catalogue is shared."""
    return None if shared else tenant


def _own(row: Provider | Technology, what: str, *, tenant: str | None) -> None:
    # Reached only for a row the caller can read (a shared catalogue), so 403 reveals nothing new.
    if tenant is not None and row.tenant != tenant:
        raise Forbidden(f"{what} {row.id} belongs to another tenant's catalogue; it can be read, not changed")


def _apply(row: object, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        setattr(row, name, value)


def _page(
    repository: CatalogueRepository[Any], *, limit: int, offset: int, after: int | None = None, **filters: Any
) -> tuple[list[Any], int]:
    active = {name: value for name, value in filters.items() if value is not None}
    return repository.page(limit=limit, offset=offset, after=after, **active)


# Index upkeep for every write path (API, bulk import): vectors are computed and stored inside the
# transaction (so every process finds them), then the change is logged, last, for every process to
# apply after commit (app/replication/service.py).


def index_technologies(session: Session, *, matcher: Matcher, rows: Sequence[Technology], settings: Settings) -> None:
    if not rows:
        return
    records = [technology_record(row) for row in rows]
    vectors = technology_vectors(
        session, encoder=matcher.encoder, technologies=records, batch_size=settings.encode_batch_size
    )
    texts = [technology_text(r) for r in records]
    ids = [r.id for r in records]
    write_in_transaction(session, matcher.catalogue.backend, "technologies", ids=ids, vectors=vectors, texts=texts)
    record_change(
        session,
        technologies=[r.id for r in records],
        apply_here=lambda: matcher.catalogue.upsert_technologies(records, vectors),
    )


def index_needs(session: Session, *, matcher: Matcher, rows: Sequence[Need], settings: Settings) -> None:
    if not rows:
        return
    records = [need_record(row) for row in rows]
    vectors = need_vectors(session, encoder=matcher.encoder, needs=records, batch_size=settings.encode_batch_size)
    texts = [need_text(r) for r in records]
    ids = [r.id for r in records]
    write_in_transaction(session, matcher.catalogue.backend, "needs", ids=ids, vectors=vectors, texts=texts)
    record_change(
        session, needs=[r.id for r in records], apply_here=lambda: matcher.catalogue.upsert_needs(records, vectors)
    )


# Providers


# `tenant` is the caller's tenant (None: a trusted caller such as the CLI, which sees every tenant);
# `shared` is the share_catalogue setting.


def list_providers(
    session: Session,
    *,
    limit: int,
    offset: int,
    after: int | None = None,
    tenant: str | None = None,
    shared: bool = True,
) -> tuple[list[Provider], int]:
    return _page(ProviderRepository(session), limit=limit, offset=offset, after=after, tenant=_visible(tenant, shared))


def get_provider(session: Session, *, provider_id: int, tenant: str | None = None, shared: bool = True) -> Provider:
    row = ProviderRepository(session).get(provider_id, tenant=_visible(tenant, shared))
    return _found(row, "provider", provider_id)


def create_provider(
    session: Session, *, data: ProviderCreate, settings: Settings, tenant: str = DEFAULT_TENANT
) -> Provider:
    check_text_limits(data, max_chars=settings.max_text_chars)
    repository = ProviderRepository(session)
    _free_ref(repository, data.ref, tenant=tenant)
    return repository.add(Provider(**data.model_dump(), tenant=tenant))


def update_provider(
    session: Session,
    *,
    matcher: Matcher,
    provider_id: int,
    data: ProviderUpdate,
    settings: Settings,
    tenant: str | None = None,
) -> Provider:
    check_text_limits(data, max_chars=settings.max_text_chars)
    repository = ProviderRepository(session)
    provider = get_provider(session, provider_id=provider_id, tenant=tenant, shared=settings.share_catalogue)
    _own(provider, "provider", tenant=tenant)
    changes = data.model_dump(exclude_unset=True)
    _free_ref(repository, changes.get("ref"), tenant=provider.tenant, own_id=provider.id)
    renamed = "name" in changes and changes["name"] != provider.name
    _apply(provider, changes)
    session.flush()
    if renamed:
        # The engine shows provider names in results; the texts (and vectors) do not change.
        technologies = TechnologyRepository(session).of_provider(provider.id)
        index_technologies(session, matcher=matcher, rows=technologies, settings=settings)
    return provider


def delete_provider(session: Session, *, provider_id: int, tenant: str | None = None, shared: bool = True) -> None:
    repository = ProviderRepository(session)
    provider = get_provider(session, provider_id=provider_id, tenant=tenant, shared=shared)
    _own(provider, "provider", tenant=tenant)
    if repository.has_technologies(provider.id):
        raise Conflict(f"provider {provider_id} still has technologies; delete them first")
    repository.delete(provider)


# Technologies


def list_technologies(
    session: Session,
    *,
    limit: int,
    offset: int,
    after: int | None = None,
    provider_id: int | None = None,
    tenant: str | None = None,
    shared: bool = True,
) -> tuple[list[Technology], int]:
    return _page(
        TechnologyRepository(session),
        limit=limit,
        offset=offset,
        after=after,
        provider_id=provider_id,
        tenant=_visible(tenant, shared),
    )


def get_technology(
    session: Session, *, technology_id: int, tenant: str | None = None, shared: bool = True
) -> Technology:
    row = TechnologyRepository(session).get(technology_id, tenant=_visible(tenant, shared))
    return _found(row, "technology", technology_id)


def _require_provider(session: Session, provider_id: int, *, tenant: str | None) -> None:
    # A technology is offered by a provider of the same tenant, even where the catalogue is shared.
    if ProviderRepository(session).get(provider_id, tenant=tenant) is None:
        raise ValidationProblem.field(("body", "provider_id"), f"no provider with id {provider_id}")


def create_technology(
    session: Session,
    *,
    matcher: Matcher,
    data: TechnologyCreate,
    settings: Settings,
    tenant: str = DEFAULT_TENANT,
) -> Technology:
    check_text_limits(data, max_chars=settings.max_text_chars)
    repository = TechnologyRepository(session)
    _require_provider(session, data.provider_id, tenant=tenant)
    _free_ref(repository, data.ref, tenant=tenant)
    technology = repository.add(Technology(**data.model_dump(), tenant=tenant))
    index_technologies(session, matcher=matcher, rows=[technology], settings=settings)
    return technology


def update_technology(
    session: Session,
    *,
    matcher: Matcher,
    technology_id: int,
    data: TechnologyUpdate,
    settings: Settings,
    tenant: str | None = None,
) -> Technology:
    check_text_limits(data, max_chars=settings.max_text_chars)
    repository = TechnologyRepository(session)
    technology = get_technology(session, technology_id=technology_id, tenant=tenant, shared=settings.share_catalogue)
    _own(technology, "technology", tenant=tenant)
    changes = data.model_dump(exclude_unset=True)
    if "provider_id" in changes:
        _require_provider(session, changes["provider_id"], tenant=technology.tenant)
    _free_ref(repository, changes.get("ref"), tenant=technology.tenant, own_id=technology.id)
    _apply(technology, changes)
    low, high = technology.price_min_eur, technology.price_max_eur
    if low is not None and high is not None and low > high:
        raise ValidationProblem.field(("body", "price_min_eur"), "price_min_eur must not be above price_max_eur")
    session.flush()
    # The joined provider may have changed with provider_id.
    session.refresh(technology, ["provider"])
    index_technologies(session, matcher=matcher, rows=[technology], settings=settings)
    return technology


def delete_technology(
    session: Session, *, matcher: Matcher, technology_id: int, tenant: str | None = None, shared: bool = True
) -> None:
    technology = get_technology(session, technology_id=technology_id, tenant=tenant, shared=shared)
    _own(technology, "technology", tenant=tenant)
    MatchRepository(session).delete_of_technology(technology.id)
    TechnologyRepository(session).delete(technology)
    record_change(
        session, technologies=[technology_id], apply_here=lambda: matcher.catalogue.remove_technologies([technology_id])
    )


# Companies


# Companies and needs belong to one tenant, whatever share_catalogue says.


def list_companies(
    session: Session, *, limit: int, offset: int, after: int | None = None, tenant: str | None = None
) -> tuple[list[Company], int]:
    return _page(CompanyRepository(session), limit=limit, offset=offset, after=after, tenant=tenant)


def get_company(session: Session, *, company_id: int, tenant: str | None = None) -> Company:
    return _found(CompanyRepository(session).get(company_id, tenant=tenant), "company", company_id)


def create_company(
    session: Session, *, data: CompanyCreate, settings: Settings, tenant: str = DEFAULT_TENANT
) -> Company:
    check_text_limits(data, max_chars=settings.max_text_chars)
    repository = CompanyRepository(session)
    _free_ref(repository, data.ref, tenant=tenant)
    return repository.add(Company(**data.model_dump(), tenant=tenant))


def update_company(
    session: Session,
    *,
    matcher: Matcher,
    company_id: int,
    data: CompanyUpdate,
    settings: Settings,
    tenant: str | None = None,
) -> Company:
    check_text_limits(data, max_chars=settings.max_text_chars)
    repository = CompanyRepository(session)
    company = get_company(session, company_id=company_id, tenant=tenant)
    changes = data.model_dump(exclude_unset=True)
    _free_ref(repository, changes.get("ref"), tenant=company.tenant, own_id=company.id)
    # The engine scores needs by their company's sector, shows its name and explains gaps in its skills.
    relevant = any(name in changes and changes[name] != getattr(company, name) for name in ("name", "sector", "skills"))
    _apply(company, changes)
    session.flush()
    if relevant:
        needs = NeedRepository(session).of_company(company.id)
        index_needs(session, matcher=matcher, rows=needs, settings=settings)
    return company


def delete_company(session: Session, *, company_id: int, tenant: str | None = None) -> None:
    repository = CompanyRepository(session)
    company = get_company(session, company_id=company_id, tenant=tenant)
    if repository.has_needs(company.id):
        raise Conflict(f"company {company_id} still has needs; delete them first")
    repository.delete(company)


# Needs


def list_needs(
    session: Session,
    *,
    limit: int,
    offset: int,
    after: int | None = None,
    company_id: int | None = None,
    tenant: str | None = None,
) -> tuple[list[Need], int]:
    return _page(NeedRepository(session), limit=limit, offset=offset, after=after, company_id=company_id, tenant=tenant)


def get_need(session: Session, *, need_id: int, tenant: str | None = None) -> Need:
    return _found(NeedRepository(session).get(need_id, tenant=tenant), "need", need_id)


def _require_company(session: Session, company_id: int, *, tenant: str | None) -> None:
    if CompanyRepository(session).get(company_id, tenant=tenant) is None:
        raise ValidationProblem.field(("body", "company_id"), f"no company with id {company_id}")


def _constraint_columns(constraints: ConstraintsIn) -> dict[str, Any]:
    return {
        "budget_eur_max": constraints.budget_eur_max,
        "min_trl": constraints.min_trl,
        "region": constraints.region,
        "languages": list(constraints.languages) if constraints.languages else None,
    }


def create_need(
    session: Session,
    *,
    matcher: Matcher,
    data: NeedCreate,
    settings: Settings,
    tenant: str = DEFAULT_TENANT,
) -> Need:
    check_text_limits(data, max_chars=settings.max_text_chars)
    repository = NeedRepository(session)
    _require_company(session, data.company_id, tenant=tenant)
    _free_ref(repository, data.ref, tenant=tenant)
    columns = data.model_dump(exclude={"constraints"}) | _constraint_columns(data.constraints)
    need = repository.add(Need(**columns, tenant=tenant))
    index_needs(session, matcher=matcher, rows=[need], settings=settings)
    return need


def update_need(
    session: Session,
    *,
    matcher: Matcher,
    need_id: int,
    data: NeedUpdate,
    settings: Settings,
    tenant: str | None = None,
) -> Need:
    check_text_limits(data, max_chars=settings.max_text_chars)
    repository = NeedRepository(session)
    need = get_need(session, need_id=need_id, tenant=tenant)
    changes = data.model_dump(exclude_unset=True, exclude={"constraints"})
    if "company_id" in changes:
        _require_company(session, changes["company_id"], tenant=need.tenant)
    _free_ref(repository, changes.get("ref"), tenant=need.tenant, own_id=need.id)
    if data.constraints is not None:
        changes |= _constraint_columns(data.constraints)
    _apply(need, changes)
    session.flush()
    session.refresh(need, ["company"])
    index_needs(session, matcher=matcher, rows=[need], settings=settings)
    return need


def delete_need(session: Session, *, matcher: Matcher, need_id: int, tenant: str | None = None) -> None:
    need = get_need(session, need_id=need_id, tenant=tenant)
    MatchRepository(session).delete_of_need(need.id)
    NeedRepository(session).delete(need)
    record_change(session, needs=[need_id], apply_here=lambda: matcher.catalogue.remove_needs([need_id]))
