"""Benchmarks: ``python -m bench`` (the product, through the gateway and beside it) and
``bench/cql_bench.py`` (the CQL server). ``make bench`` runs both; see README, Performance."""
