"""HTTP routes: thin routers, one per resource, versioned under /api/v1."""

from fastapi import APIRouter, Depends

from app.api import (
    admin,
    bulk,
    companies,
    health,
    learning,
    matches,
    needs,
    pairing,
    privacy,
    providers,
    review,
    technologies,
    webhooks,
)
from app.auth import require_key

# Every route under /api/v1 needs a valid key, even one that forgets to ask for a scope.
api_router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_key)])
for module in (
    providers,
    technologies,
    companies,
    needs,
    matches,
    pairing,
    admin,
    learning,
    review,
    webhooks,
    bulk,
    privacy,
):
    api_router.include_router(module.router)

__all__ = ["api_router", "health"]  # health routes live outside /api/v1
