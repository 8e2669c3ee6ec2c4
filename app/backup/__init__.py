"""Backup and restore of the embedded SQLite database."""
