"""Matches: a need's stored matches, ad-hoc matches and leads."""
