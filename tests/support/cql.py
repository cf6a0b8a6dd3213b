"""The acsylla driver as the tests use it, against the cqlserver or Apache Cassandra on
loopback: one place for the cluster options every test connection shares, and for running
a statement the way the services do (prepared, then bound)."""

from __future__ import annotations

from typing import Any

import acsylla


def acsylla_cluster(port: int, **options: Any) -> acsylla.Cluster:
    """One node on 127.0.0.1: no schema metadata and no token-aware routing (a single node
    needs neither, and the cqlserver serves neither), protocol v4, the driver's log quiet;
    ``options`` for what a test sets itself (consistency, timeouts)."""
    return acsylla.create_cluster(
        ["127.0.0.1"],
        port=port,
        use_schema=False,
        token_aware_routing=False,
        protocol_version=4,
        log_level="error",
        **options,
    )


async def prepared(
    session: acsylla.Session, cql: str, *values: Any, page_size: int | None = None
) -> acsylla.Result:
    """``cql`` prepared, bound to ``values`` and run: the path the services' statements take."""
    statement = (await session.create_prepared(cql)).bind(page_size=page_size)
    if values:
        statement.bind_list(list(values))
    return await session.execute(statement)
