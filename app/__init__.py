"""techmatch's service: REST API, database, index upkeep and CLI around the matching engine."""
