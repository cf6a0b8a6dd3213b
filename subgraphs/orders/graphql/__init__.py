"""The GraphQL API of the orders subgraph (Strawberry, federation 2.9)."""
