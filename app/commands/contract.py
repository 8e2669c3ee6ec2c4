"""`techmatch openapi`: print the OpenAPI document as committed in docs/openapi.json."""

from __future__ import annotations

import sys

from app.config import Settings


def openapi() -> None:
    """Print the OpenAPI document (sorted keys); regenerate the committed one with
    `techmatch openapi > docs/openapi.json`."""
    # The document depends on the code only; these settings keep the environment out of it.
    from app.contract import openapi_json  # the whole app: imported only for this command
    from app.main import create_app

    settings = Settings(_env_file=None, database_url="sqlite://")  # type: ignore[call-arg]
    sys.stdout.write(openapi_json(create_app(settings)))
