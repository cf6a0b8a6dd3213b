"""Starting the shop's processes: the embedded engines (MongoDB-, Kafka-, MySQL- and
CQL-protocol servers), the subgraphs and the gateway. ``make up`` uses it, and so do the
tests' fixtures, so both start things the same way."""
