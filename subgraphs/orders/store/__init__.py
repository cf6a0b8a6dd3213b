"""Cassandra persistence of orders (the only package that imports ``acsylla``)."""
