"""Provider page fixtures: the people fixtures and the SME pages' released match."""

from __future__ import annotations

from tests.app.people.conftest import cast, web  # noqa: F401 (fixtures)
