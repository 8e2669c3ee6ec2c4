"""The service's core: settings, database, errors, auth, dependencies, migrations, HTTP limits, OpenAPI."""
