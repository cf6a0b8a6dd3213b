"""Use cases of the orders subgraph: the only API the GraphQL layer, the consumers and the
expiry sweep call."""
