"""Evaluation of a data set in a throw-away database."""
