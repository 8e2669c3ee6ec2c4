"""The SME member's pages: its home and its company (only its own)."""
