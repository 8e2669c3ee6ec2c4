"""Engagements: introductions and demonstrations followed to adoption or decline."""
