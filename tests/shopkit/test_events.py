"""The event kit against the real Kafka-protocol broker."""

import asyncio
import json
import uuid

import jsonschema
import pytest
from aiokafka import AIOKafkaConsumer

from shopkit.events import CloudEvent, OutboxMessage, OutboxRelay, new_event
from shopkit.events.kafka import EventConsumer, KafkaPublisher, ensure_topics
from shopkit.events.schemas import EventSchemas


class MemoryOutbox:
    def __init__(self, messages):
        self.messages = list(messages)
        self.published: list[str] = []

    async def pending(self, limit):
        return [m for m in self.messages if m.id not in self.published][:limit]

    async def mark_published(self, ids):
        self.published.extend(ids)


class MemoryInbox:
    def __init__(self):
        self.ids: set[tuple[str, str]] = set()

    async def seen(self, consumer, event_id):
        return (consumer, event_id) in self.ids

    async def record(self, consumer, event_id):
        self.ids.add((consumer, event_id))


def test_envelope_round_trips_and_ignores_unknown_fields():
    event = new_event("order.paid", source="orders", subject="o-1", data={"orderId": "o-1"})
    raw = json.loads(event.to_json())
    raw["somethingNew"] = 1
    assert CloudEvent.from_json(json.dumps(raw)) == event
    assert event.topic == "shop.order"


def test_schemas_validate_data_and_envelope(tmp_path):
    (tmp_path / "thing.done.json").write_text(
        json.dumps({"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}})
    )
    schemas = EventSchemas(tmp_path)
    schemas.validate(new_event("thing.done", source="t", subject="1", data={"n": 1, "extra": 2}))
    with pytest.raises(jsonschema.ValidationError):
        schemas.validate(new_event("thing.done", source="t", subject="1", data={"n": "one"}))
    with pytest.raises(jsonschema.ValidationError):
        schemas.validate({"type": "thing.done", "data": {"n": 1}})


async def test_relay_publishes_in_order_keyed_by_aggregate_and_marks_published(kafka_bootstrap):
    topic = f"shop.test{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka_bootstrap, [topic])
    events = [
        new_event("test.happened", source="t", subject="agg-1", data={"n": n}) for n in range(5)
    ]
    outbox = MemoryOutbox(
        OutboxMessage(id=e.id, topic=topic, key=e.subject, value=e.to_json()) for e in events
    )
    publisher = KafkaPublisher(kafka_bootstrap)
    relay = OutboxRelay(outbox, publisher, service="test")
    try:
        assert await relay.relay_once() == 5
        assert await relay.relay_once() == 0
    finally:
        await publisher.stop()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        got = []
        async with asyncio.timeout(20):
            while len(got) < 5:
                batch = await consumer.getmany(timeout_ms=500)
                got += [m for msgs in batch.values() for m in msgs]
    finally:
        await consumer.stop()
    assert [json.loads(m.value)["data"]["n"] for m in got] == [0, 1, 2, 3, 4]
    assert {m.key for m in got} == {b"agg-1"}
    assert outbox.published == [e.id for e in events]


async def test_relay_publishes_at_once_a_row_notified_while_it_was_reading(kafka_bootstrap):
    topic = f"shop.test{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka_bootstrap, [topic])
    event = new_event("test.happened", source="t", subject="agg-1", data={})
    late = OutboxMessage(id=event.id, topic=topic, key=event.subject, value=event.to_json())

    class CommitDuringRead(MemoryOutbox):
        async def pending(self, limit):
            found = await super().pending(limit)
            if late not in self.messages:  # a row committed and notified after this read
                self.messages.append(late)
                relay.notify()
            return found

    outbox = CommitDuringRead([])
    publisher = KafkaPublisher(kafka_bootstrap)
    relay = OutboxRelay(outbox, publisher, service="test", poll_seconds=30)
    relay.start()
    try:
        async with asyncio.timeout(10):
            while outbox.published != [late.id]:
                await asyncio.sleep(0.05)
    finally:
        await relay.stop()
        await publisher.stop()


async def test_consumer_handles_a_redelivered_event_once(kafka_bootstrap):
    kind = f"probe{uuid.uuid4().hex[:6]}"
    handled: list[str] = []

    async def handler(event):
        handled.append(event.id)

    inbox = MemoryInbox()
    consumer = EventConsumer(
        bootstrap=kafka_bootstrap,
        group_id=f"g-{kind}",
        handlers={f"{kind}.happened": handler},
        inbox=inbox,
        service="test",
    )
    await ensure_topics(kafka_bootstrap, consumer.topics)
    event = new_event(f"{kind}.happened", source="t", subject="a", data={})
    publisher = KafkaPublisher(kafka_bootstrap)
    try:
        for _ in range(3):  # the same event delivered three times
            await publisher.send(event.topic, "a", event.to_json())
        await publisher.send(event.topic, "a", "not json at all")
    finally:
        await publisher.stop()
    consumer.start()
    try:
        async with asyncio.timeout(30):
            while not handled:
                await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)
    finally:
        await consumer.stop()
    assert handled == [event.id]


async def test_an_event_that_keeps_failing_is_parked_on_the_dlq_without_a_last_wait(
    kafka_bootstrap,
):
    kind = f"fail{uuid.uuid4().hex[:6]}"
    attempts: list[float] = []
    loop = asyncio.get_running_loop()

    async def handler(event):
        attempts.append(loop.time())
        raise RuntimeError("always fails")

    consumer = EventConsumer(
        bootstrap=kafka_bootstrap,
        group_id=f"g-{kind}",
        handlers={f"{kind}.happened": handler},
        inbox=MemoryInbox(),
        service="test",
        max_attempts=2,
        retry_seconds=2.0,
    )
    event = new_event(f"{kind}.happened", source="t", subject="a", data={})
    dlq_topic = f"{event.topic}.dlq"
    await ensure_topics(kafka_bootstrap, [*consumer.topics, dlq_topic])
    publisher = KafkaPublisher(kafka_bootstrap)
    try:
        await publisher.send(event.topic, "a", event.to_json())
    finally:
        await publisher.stop()
    dlq = AIOKafkaConsumer(
        dlq_topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await dlq.start()
    consumer.start()
    try:
        parked = []
        async with asyncio.timeout(30):
            while not parked:
                batch = await dlq.getmany(timeout_ms=200)
                parked += [m for msgs in batch.values() for m in msgs]
        parked_at = loop.time()
    finally:
        await consumer.stop()
        await dlq.stop()
    assert len(attempts) == 2
    assert CloudEvent.from_json(parked[0].value).id == event.id
    # one wait of retry_seconds between the two attempts, none after the last one
    assert attempts[1] - attempts[0] >= 2.0
    assert parked_at - attempts[1] < 2.0
