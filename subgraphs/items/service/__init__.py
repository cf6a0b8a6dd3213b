"""Use cases: the only API the GraphQL and REST layers and the event consumers call."""
