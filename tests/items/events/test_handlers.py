"""Events: order.cancelled / order.paid consumed once, and what items publishes, against the
real database and the real Kafka-protocol broker."""

from __future__ import annotations

import asyncio
import json
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shopkit.events import new_event
from shopkit.events.kafka import EventConsumer
from subgraphs.items.domain.reservation import ReservationStatus
from subgraphs.items.events.handlers import order_handlers
from tests.items.helpers import (
    AN_ADMIN,
    an_item_held,
    draft,
    event_schemas,
    items_settings,
    outbox_events,
    running_app,
)


def order_event(event_type: str, order_id: str):
    return new_event(
        event_type,
        source="orders",
        subject=order_id,
        data={"orderId": order_id, "customerId": "c-1", "somethingNew": [1]},
    )


def consumer_for(inventory, db) -> EventConsumer:
    return EventConsumer(
        bootstrap="unused:1",
        group_id="items",
        handlers=order_handlers(inventory),
        inbox=db.inbox,
        service="items",
    )


async def test_a_redelivered_order_cancelled_releases_the_reservation_once(items, inventory, db):
    order_id = f"o-{uuid.uuid4().hex[:8]}"
    item = await an_item_held(items, inventory, order_id, 2, stock=5)
    consumer = consumer_for(inventory, db)
    event = order_event("order.cancelled", order_id)
    assert await consumer.handle(event) is True
    assert await consumer.handle(event) is False
    await consumer.handlers["order.cancelled"](event)
    assert (await inventory.get(order_id)).status is ReservationStatus.RELEASED
    assert (await items.get(item.id)).available == 5
    types = [e.type for e in await outbox_events(db, order_id)]
    assert types == ["inventory.reserved", "inventory.released"]


async def test_order_paid_commits_the_reservation_once(items, inventory, db):
    order_id = f"o-{uuid.uuid4().hex[:8]}"
    item = await an_item_held(items, inventory, order_id, 2, stock=5)
    consumer = consumer_for(inventory, db)
    event = order_event("order.paid", order_id)
    await consumer.handle(event)
    await consumer.handlers["order.paid"](event)
    stored = await items.get(item.id)
    assert (stored.available, stored.reserved) == (3, 0)
    assert (await inventory.get(order_id)).status is ReservationStatus.COMMITTED


def paid_event(order_id: str, lines: list[tuple[str, int]]):
    """An order.paid as orders builds it: the paid lines with their prices."""
    return new_event(
        "order.paid",
        source="orders",
        subject=order_id,
        data={
            "orderId": order_id,
            "customerId": "c-1",
            "status": "PAID",
            "previousStatus": "PENDING_PAYMENT",
            "lines": [
                {"itemId": i, "quantity": q, "unitPrice": {"amount": 1999, "currency": "USD"}}
                for i, q in lines
            ],
            "total": {"amount": 1999, "currency": "USD"},
        },
    )


async def counters(items, *item_ids: str) -> list[tuple[int, int]]:
    return [((s := await items.get(i)).available, s.reserved) for i in item_ids]


async def test_order_paid_commits_the_paid_lines_not_the_held_ones_and_only_once(
    items, inventory, db
):
    pen, ink, mug = [await items.create(AN_ADMIN, **draft(stock=10)) for _ in range(3)]
    order_id = f"o-{uuid.uuid4().hex[:8]}"
    # Held after an order change whose write lost to the payment: pen 5 + ink 2.
    await inventory.reserve(order_id, [(pen.id, 5), (ink.id, 2)])
    consumer = consumer_for(inventory, db)
    # What the order was paid for: pen 3 + mug 1.
    event = paid_event(order_id, [(pen.id, 3), (mug.id, 1)])
    assert await consumer.handle(event) is True

    assert await counters(items, pen.id, ink.id, mug.id) == [(7, 0), (10, 0), (9, 0)]
    committed = await inventory.get(order_id)
    assert committed.status is ReservationStatus.COMMITTED
    assert committed.quantities() == {pen.id: 3, mug.id: 1}
    assert [line.name for line in committed.lines] == [pen.name, mug.name]

    await consumer.handlers["order.paid"](event)  # a redelivery past the inbox
    assert await consumer.handle(event) is False
    assert await counters(items, pen.id, ink.id, mug.id) == [(7, 0), (10, 0), (9, 0)]
    events = await outbox_events(db, order_id)
    assert [e.type for e in events] == ["inventory.reserved", "inventory.committed"]
    assert {(x["itemId"], x["quantity"]) for x in events[-1].data["lines"]} == {
        (pen.id, 3),
        (mug.id, 1),
    }
    for e in events:
        event_schemas().validate(e)


async def test_paid_lines_beyond_the_stock_commit_what_is_held_and_log_the_shortfall(
    items, inventory, db, caplog
):
    pen = await items.create(AN_ADMIN, **draft(stock=3))
    ink = await items.create(AN_ADMIN, **draft(stock=10))
    order_id = f"o-{uuid.uuid4().hex[:8]}"
    await inventory.reserve(order_id, [(pen.id, 2), (ink.id, 2)])
    consumer = consumer_for(inventory, db)
    # Paid for 5 pens (only 1 more available) and 1 ink.
    with caplog.at_level("ERROR", logger="subgraphs.items.service.inventory"):
        await consumer.handle(paid_event(order_id, [(pen.id, 5), (ink.id, 1)]))

    assert await counters(items, pen.id, ink.id) == [(1, 0), (9, 0)]
    committed = await inventory.get(order_id)
    assert committed.status is ReservationStatus.COMMITTED
    assert committed.quantities() == {pen.id: 2, ink.id: 1}
    [record] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert record.order_id == order_id
    assert record.shortfall == {pen.id: 3}


async def test_order_events_without_a_reservation_are_handled_without_effect(inventory, db):
    consumer = consumer_for(inventory, db)
    for event_type in ("order.cancelled", "order.paid"):
        order_id = f"o-{uuid.uuid4().hex[:8]}"
        assert await consumer.handle(order_event(event_type, order_id)) is True
        assert await outbox_events(db, order_id) == []


async def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.2)


async def test_kafka_round_trip_releases_once_and_publishes_valid_events(
    mongo_url, kafka_bootstrap
):
    settings = items_settings(
        mongo_url, events_enabled=True, kafka_bootstrap=kafka_bootstrap, outbox_poll_seconds=0.2
    )
    async with running_app(settings) as (app, _):
        items, inventory, db = app.state.items, app.state.inventory, app.state.db
        item = await items.create(AN_ADMIN, **draft(stock=5))
        order_id = str(uuid.uuid4())
        await inventory.reserve(order_id, [(item.id, 3)])

        # As orders publishes it: the consumer checks it against orders' JSON Schema.
        event = new_event(
            "order.cancelled",
            source="orders",
            subject=order_id,
            data={
                "orderId": order_id,
                "customerId": "c-1",
                "status": "CANCELLED",
                "previousStatus": "PENDING_PAYMENT",
                "lines": [
                    {
                        "itemId": item.id,
                        "quantity": 3,
                        "unitPrice": {"amount": 1, "currency": "EUR"},
                    }
                ],
                "total": {"amount": 3, "currency": "EUR"},
                "reason": None,
                "somethingNew": [1],
            },
        )
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        await producer.start()
        try:
            for _ in range(2):  # a redelivery
                await producer.send_and_wait(
                    "shop.order", value=event.to_json().encode(), key=order_id.encode()
                )
        finally:
            await producer.stop()

        async def released() -> bool:
            return (await inventory.get(order_id)).status is ReservationStatus.RELEASED

        await wait_for(released)

        async def relayed() -> bool:
            rows = await db.outbox.collection.count_documents(
                {"key": order_id, "published_at": None}
            )
            return rows == 0

        await wait_for(relayed)
        await asyncio.sleep(0.5)  # room for a wrong second release
        stored = await items.get(item.id)
        assert (stored.available, stored.reserved) == (5, 0)
        types = [e.type for e in await outbox_events(db, order_id)]
        assert types == ["inventory.reserved", "inventory.released"]

    consumer = AIOKafkaConsumer(
        "shop.inventory",
        "shop.item",
        bootstrap_servers=kafka_bootstrap,
        group_id=f"check-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    seen: list[dict] = []
    try:
        deadline = asyncio.get_running_loop().time() + 20
        while asyncio.get_running_loop().time() < deadline and len(seen) < 3:
            batch = await consumer.getmany(timeout_ms=500)
            for messages in batch.values():
                for message in messages:
                    raw = json.loads(message.value)
                    if raw["subject"] in (order_id, item.id):
                        seen.append(raw)
    finally:
        await consumer.stop()
    assert sorted(e["type"] for e in seen) == [
        "inventory.released",
        "inventory.reserved",
        "item.created",
    ]
    schemas = event_schemas()
    for raw in seen:
        schemas.validate(raw)
