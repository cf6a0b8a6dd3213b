"""The items subgraph: the catalog (items, prices, attributes) and its inventory, including
the stock reservations the orders service holds while an order is open."""
