"""Queries of API keys: by prefix, by tenant."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.keys import ApiKey


class ApiKeyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_prefix(self, prefix: str) -> ApiKey | None:
        return self.session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()

    def all(self, *, tenant: str | None = None) -> list[ApiKey]:
        query = select(ApiKey).order_by(ApiKey.tenant, ApiKey.id)
        if tenant is not None:
            query = query.where(ApiKey.tenant == tenant)
        return list(self.session.scalars(query).all())

    def add(self, key: ApiKey) -> ApiKey:
        self.session.add(key)
        self.session.flush()
        return key
