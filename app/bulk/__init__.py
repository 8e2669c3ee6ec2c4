"""Bulk import and export of the catalogue: CSV, XLSX and JSON Lines."""
