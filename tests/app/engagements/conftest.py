"""Engagement fixtures: the people fixtures (one person per role on the mini catalogue)."""

from tests.app.people.conftest import cast, web  # noqa: F401 (fixtures)
