"""Evaluation: data sets in the benchmark and BEIR formats, and ranking metrics."""
