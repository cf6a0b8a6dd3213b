"""Use cases of the accounts service: the only API the GraphQL layer and start-up call."""
