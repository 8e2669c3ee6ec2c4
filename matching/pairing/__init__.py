"""Demonstration-day pairing: the optimiser, the round schedule and the heat map."""
