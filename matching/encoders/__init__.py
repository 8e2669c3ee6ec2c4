"""Encoders turn texts into unit vectors: protocol, sentence-transformers, traced, hashing, E5, routed, batching."""
