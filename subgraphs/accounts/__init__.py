"""The accounts subgraph: accounts, credentials, saved payment methods and access tokens."""
