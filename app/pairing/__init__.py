"""Demonstration-day plans: create, revise, export."""
