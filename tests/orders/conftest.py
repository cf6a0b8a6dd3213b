"""Fixtures of the orders tests: a fresh keyspace on the real CQL server per test, and the
store, outbox and inbox opened on it with the production code."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import acsylla
import pytest

from subgraphs.orders.store.inbox import CqlInbox
from subgraphs.orders.store.orders import CqlOrderStore
from subgraphs.orders.store.outbox import CqlOutbox
from subgraphs.orders.store.session import connect


@dataclass
class Cql:
    session: acsylla.Session
    keyspace: str
    store: CqlOrderStore
    outbox: CqlOutbox
    inbox: CqlInbox


async def open_cql(port: int, keyspace: str) -> Cql:
    session = await connect("127.0.0.1", port, keyspace)
    return Cql(
        session,
        keyspace,
        await CqlOrderStore.open(session, keyspace, expiry_lookback_hours=2),
        await CqlOutbox.open(session, keyspace, lookback_hours=2),
        await CqlInbox.open(session, keyspace),
    )


@pytest.fixture
async def cql(cql_port: int) -> AsyncIterator[Cql]:
    opened = await open_cql(cql_port, f"orders_{uuid.uuid4().hex[:12]}")
    yield opened
    await opened.session.close()
