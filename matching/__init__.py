"""techmatch's matching engine: embeddings, FAISS and BM25 candidates, fused ranking, explanations."""
