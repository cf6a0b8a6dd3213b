"""Events through the real broker: an event written but not published before the process
died is delivered after a restart (once in effect), and redelivered payment events move an
order once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import respx
from aiokafka import AIOKafkaProducer

from shopkit.auth import Identity
from shopkit.events import CloudEvent, OutboxRelay
from shopkit.events.kafka import EventConsumer, KafkaPublisher, ensure_topics
from shopkit.events.schemas import producer_schemas
from shopkit.service_client import ServiceClient
from stack import engines
from stack.process import Process, free_port
from subgraphs.orders.domain.model import LineRequest, OrderStatus
from subgraphs.orders.events.handlers import payment_handlers
from subgraphs.orders.service.items import ItemsStock
from subgraphs.orders.service.orders import OrderService
from tests.orders.conftest import Cql, open_cql, payment_succeeded
from tests.support.items_mock import ITEMS_URL, ItemsMock
from tests.support.kafka import read_events

SCHEMAS = producer_schemas("orders")


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    items = ItemsMock()
    items.add("pen", 250, stock=100)
    with respx.mock(assert_all_called=False) as router:
        router.post(ITEMS_URL).mock(side_effect=items)
        async with httpx.AsyncClient() as client:
            yield client


def service_on(cql: Cql, http: httpx.AsyncClient) -> OrderService:
    client = ServiceClient(url=ITEMS_URL, caller="orders", secret="s" * 32, http=http)
    return OrderService(cql.store, ItemsStock(client))


def start_engine(engine: str, port: int, data_dir: Path, log_dir: Path) -> Process:
    """A CQL engine of the test's own, on ``data_dir``, that the test may kill."""
    if engine == "cassandra":
        return engines.start_cassandra(port, data_dir, log_dir, storage_port=free_port())
    return engines.start_cql(port, data_dir, log_dir)


@pytest.mark.parametrize("engine", ["cassandra", "cqlserver"])
async def test_an_event_not_published_before_a_crash_is_delivered_once_after_restart(
    engine: str, tmp_path: Path, http, kafka_bootstrap
):
    port = free_port()
    data_dir = tmp_path / "cql"
    keyspace = f"orders_{uuid.uuid4().hex[:12]}"
    server = start_engine(engine, port, data_dir, tmp_path)
    try:
        cql = await open_cql(port, keyspace)
        who = Identity(account_id=str(uuid.uuid4()), role="CUSTOMER")
        service = service_on(cql, http)
        order = await service.create_order(who, [LineRequest("pen", 1)])
        await service.cancel_order(who, order.id, "crash test")
        # No relay ran: both events are only rows of the order's partition. Crash everything.
        await cql.session.close()
        server.kill()
        server = start_engine(engine, port, data_dir, tmp_path)
        cql = await open_cql(port, keyspace)
        pending = [m for m in await cql.outbox.pending(100) if m.key == order.id]
        assert [m.type for m in pending] == ["order.created", "order.cancelled"]
        publisher = KafkaPublisher(kafka_bootstrap)
        await ensure_topics(kafka_bootstrap, ["shop.order"])
        try:
            # A relay that dies after sending, before marking: the first event goes out twice.
            await publisher.send_all(pending[:1])
            relay = OutboxRelay(cql.outbox, publisher, service="orders")
            while await relay.relay_once():
                pass
        finally:
            await publisher.stop()
        assert [m for m in await cql.outbox.pending(100) if m.key == order.id] == []
        delivered = [
            CloudEvent.from_dict(e)
            for e in await read_events(kafka_bootstrap, "shop.order", order.id, 3)
        ]
        for event in delivered:
            SCHEMAS.validate(event)
        assert [e.type for e in delivered] == ["order.created", "order.created", "order.cancelled"]
        effects = {e.id: e.type for e in delivered}  # a consumer deduplicating by event id
        assert sorted(effects.values()) == ["order.cancelled", "order.created"]
        assert delivered[-1].data["reason"] == "crash test"
        await cql.session.close()
    finally:
        server.kill()  # its data is the test's: a graceful stop would flush it for seconds


async def test_redelivered_payment_events_from_kafka_move_the_order_once(
    cql: Cql, http, kafka_bootstrap
):
    service = service_on(cql, http)
    order = await service.create_order(
        Identity(account_id=str(uuid.uuid4())), [LineRequest("pen", 1)]
    )
    paid = payment_succeeded(
        order.id, "p-1", 250, customerId=order.customer_id, status="SUCCEEDED", somethingNew=True
    )
    await ensure_topics(kafka_bootstrap, ["shop.payment"])
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for _ in range(3):
            await producer.send_and_wait("shop.payment", paid.to_json().encode(), order.id.encode())
    finally:
        await producer.stop()
    consumer = EventConsumer(
        bootstrap=kafka_bootstrap,
        group_id=f"orders-test-{uuid.uuid4().hex[:8]}",
        handlers=payment_handlers(service),
        inbox=cql.inbox,
        service="orders",
    )
    consumer.start()
    try:
        async with asyncio.timeout(30):
            while (stored := await cql.store.get(order.id)) is None or (
                stored.status != OrderStatus.PAID
            ):
                await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # let the redeliveries be handled too
    finally:
        await consumer.stop()
    assert await cql.inbox.seen(consumer.group_id, paid.id)
    events = [m.type for m in await cql.outbox.pending(100) if m.key == order.id]
    assert events == ["order.created", "order.paid"]
    stored = await cql.store.get(order.id)
    assert stored is not None
    assert stored.version == 2
