"""Tenants: every row belongs to one cluster's tenant (light: the CLI imports it at start)."""

# The tenant of `techmatch load`, `make serve` and rows written before tenants existed.
DEFAULT_TENANT = "default"
