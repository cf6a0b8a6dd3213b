"""The GraphQL API: types, queries, mutations, per-request loaders and the context."""
