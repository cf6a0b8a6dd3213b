"""The accounts GraphQL API: types, queries, mutations, the per-request context."""
