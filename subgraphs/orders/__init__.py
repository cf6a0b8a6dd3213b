"""The orders subgraph: orders, their lines and status history, stored in Cassandra."""
