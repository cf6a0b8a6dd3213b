"""Tools an operator runs against a running shop (``make reconcile``)."""
