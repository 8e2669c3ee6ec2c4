"""Command groups of the `techmatch` CLI, each a typer app registered in app/cli.py."""
