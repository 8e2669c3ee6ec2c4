"""API keys: creation, scopes, tenants and revocation."""
