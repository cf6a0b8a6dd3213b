"""The one acsylla session of the app: connect, apply ``schema.cql``, close. The stores bind
their statements on it with ``shopkit.cql.Statements``."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import acsylla

log = logging.getLogger(__name__)

SCHEMA = Path(__file__).with_name("schema.cql")


def schema_statements(keyspace: str = "shop_orders") -> list[str]:
    """The statements of ``schema.cql`` (comments dropped), for ``keyspace``."""
    text = "\n".join(
        line for line in SCHEMA.read_text().splitlines() if not line.strip().startswith("--")
    )
    text = text.replace("shop_orders", keyspace)
    return [s.strip() for s in text.split(";") if s.strip()]


async def connect(
    hosts: str, port: int, keyspace: str, *, wait_seconds: float = 30.0
) -> acsylla.Session:
    cluster = acsylla.create_cluster(
        [h.strip() for h in hosts.split(",") if h.strip()],
        port=port,
        use_schema=False,
        token_aware_routing=False,
        protocol_version=4,
        consistency=acsylla.Consistency.LOCAL_QUORUM,
        serial_consistency=acsylla.Consistency.LOCAL_SERIAL,
        connect_timeout=5.0,
        request_timeout=10.0,
        log_level="error",
    )
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            session = await cluster.create_session()
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            log.warning("Cassandra is not answering yet; retrying", exc_info=True)
            await asyncio.sleep(1.0)
    for statement in schema_statements(keyspace):
        await session.execute(acsylla.create_statement(statement, timeout=30.0))
    return session


async def ping(session: acsylla.Session) -> str:
    """The readiness check: one cheap read (the engine's release version), here so that the
    app knows Cassandra answers without importing the driver (only ``store/`` imports it)."""
    result = await session.execute(
        acsylla.create_statement("SELECT release_version FROM system.local")
    )
    return str(result.first().column_value("release_version"))
