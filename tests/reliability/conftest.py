"""Reliability tests reuse every service fixture (settings, databases, loaded apps, the test client)."""

from _pytest.fixtures import FixtureFunctionDefinition

from tests.app import conftest as _service

# Re-exported by name, so fixtures added to the service conftest later are found here too.
globals().update(
    {name: value for name, value in vars(_service).items() if isinstance(value, FixtureFunctionDefinition)}
)
