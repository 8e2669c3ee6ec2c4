"""Learning from curator decisions: the feedback model and its evaluation."""
