"""Fixtures of the orders tests: a fresh keyspace per test on Apache Cassandra, and the
store, outbox and inbox opened on it with the production code; and the events other
services send orders, as they send them (``payment_succeeded``).

A module that marks itself ``pytestmark = ON_BOTH_CQL_ENGINES`` runs each test twice, on
Cassandra and on this project's cqlserver: where the two differ, a test fails (and Cassandra
is right)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import acsylla
import pytest

from shopkit.events import CloudEvent, new_event
from shopkit.events.store.cql import CqlInbox, CqlOutbox
from subgraphs.orders.settings import OrdersSettings
from subgraphs.orders.store.orders import CqlOrderStore
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
    settings = OrdersSettings()
    outbox = await CqlOutbox.open(
        session,
        keyspace,
        table="orders",
        key="order_id",
        retention=settings.outbox_retention,
        lookback_hours=2,
    )
    return Cql(
        session,
        keyspace,
        await CqlOrderStore.open(session, keyspace, outbox, expiry_lookback_hours=2),
        outbox,
        await CqlInbox.open(session, keyspace, retention=settings.inbox_retention),
    )


ON_BOTH_CQL_ENGINES = pytest.mark.parametrize(
    "cql_engine", ["cassandra", "cqlserver"], indirect=True
)


@pytest.fixture
def cql_engine(request: pytest.FixtureRequest) -> int:
    """The port of the CQL engine under test: Cassandra unless parametrized otherwise."""
    engine = getattr(request, "param", "cassandra")
    fixture = {"cassandra": "cassandra_port", "cqlserver": "cql_port"}[engine]
    return int(request.getfixturevalue(fixture))


@pytest.fixture
async def cql(cql_engine: int) -> AsyncIterator[Cql]:
    opened = await open_cql(cql_engine, f"orders_{uuid.uuid4().hex[:12]}")
    yield opened
    await opened.session.close()


def payment_succeeded(
    order_id: str, payment_id: str, amount: int, currency: str = "EUR", **data: Any
) -> CloudEvent:
    """The ``payment.succeeded`` payments emits for a charge of ``amount`` on the order;
    ``data``: what else a test puts in it (the customer, the status, a field orders does not
    know yet)."""
    return new_event(
        "payment.succeeded",
        source="shop/payments",
        subject=order_id,
        data={
            "paymentId": payment_id,
            "orderId": order_id,
            "amount": {"amount": amount, "currency": currency},
            **data,
        },
    )
