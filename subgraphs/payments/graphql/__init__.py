"""The payments GraphQL API: types, queries, mutations, per-request loaders, the schema."""
