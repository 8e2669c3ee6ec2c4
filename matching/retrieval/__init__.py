"""Retrieval: profile texts, the vector index, BM25, the sentence cache and candidate generation."""
