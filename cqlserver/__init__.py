"""A single-node Cassandra native-protocol (v4) server in pure Python.

Modules: ``protocol`` (frames, primitive codecs), ``types`` (value codecs),
``cql`` (lexer, parser, statement dataclasses), ``schema`` (keyspaces, tables,
DDL), ``storage`` (sorted partitions, mutation log), ``values`` (literals and
functions), ``execution`` (statement semantics incl. LWT and paging),
``system_tables`` (what drivers read on connect), ``server`` (TCP/asyncio),
``testing`` (helpers to start it as a subprocess).
"""
