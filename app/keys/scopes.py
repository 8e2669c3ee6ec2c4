"""The scopes an API key may hold (light: the CLI imports it at start)."""

# Every scope a key may hold; "admin" implies all the others.
# "programme": the follow-up after introductions and demo days (engagements) and the programme's figures
# and funders' reports.
SCOPES: tuple[str, ...] = (
    "needs:write",
    "matches:read",
    "catalogue:write",
    "review",
    "pairing",
    "programme",
    "admin",
)
ADMIN_SCOPE = "admin"

# A publishable key's only scope, outside SCOPES: such a key sits in a public web page (the widget), so it
# may submit a need to its tenant through the widget and nothing else; every /api/v1 route refuses it.
PUBLISHABLE_SCOPE = "needs:submit"
