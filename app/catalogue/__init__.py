"""The catalogue: providers, technologies, companies and needs; their routes, rules, queries and schemas."""
