"""Curator review: the queue, decisions and their history, over the API and in the web pages."""
