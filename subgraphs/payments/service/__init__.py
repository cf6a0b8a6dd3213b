"""The payments use cases: the only API the GraphQL layer and the event consumers call."""
