"""The scopes an API key may hold (light: the CLI imports it at start)."""

# Every scope a key may hold; "admin" implies all the others.
SCOPES: tuple[str, ...] = ("needs:write", "matches:read", "catalogue:write", "review", "pairing", "admin")
ADMIN_SCOPE = "admin"
