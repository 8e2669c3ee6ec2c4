"""Learning from curator decisions: fit, store and load the ranking model."""
