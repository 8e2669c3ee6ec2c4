"""The provider member's pages: its home, its offerings and the leads released to it (only its own provider)."""
