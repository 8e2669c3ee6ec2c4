"""Privacy: everything stored about a company (access) and its erasure."""
