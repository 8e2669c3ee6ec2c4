"""Ranking: pair features, calibrated scoring, constraints, taxonomy and explanations."""
