"""Use cases that keep the database (source of truth) and the engine's index in step."""
