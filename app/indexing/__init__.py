"""The engine's index kept in step with the database: sync at start-up, embeddings, rebuilds, re-embedding."""
