"""HTTP routes: thin routers, one per resource, versioned under /api/v1."""

from fastapi import APIRouter

from app.api import companies, health, matches, needs, pairing, providers, technologies

api_router = APIRouter(prefix="/api/v1")
for module in (providers, technologies, companies, needs, matches, pairing):
    api_router.include_router(module.router)

__all__ = ["api_router", "health"]  # health routes live outside /api/v1
