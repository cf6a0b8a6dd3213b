"""The event kit against the real Kafka-protocol broker."""

import asyncio
import collections
import json
import random
import string
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import jsonschema
import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition
from prometheus_client import REGISTRY

from shopkit.errors import Unavailable
from shopkit.events import CloudEvent, EventRuntime, OutboxMessage, OutboxRelay, new_event
from shopkit.events.kafka import (
    EventConsumer,
    EventRejected,
    KafkaPublisher,
    ensure_topics,
    is_unavailable,
)
from shopkit.events.replay import replay_parked
from shopkit.events.schemas import EventSchemas
from shopkit.events.store.sql import SqlInbox, SqlOutbox, inbox_table, outbox_table
from shopkit.settings import ServiceSettings
from shopkit.sql import create_engine, plain_sessions

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class MemoryOutbox:
    """An OutboxStore in memory; nothing here purges (the retention tests use real stores)."""

    def __init__(self, messages: Iterable[OutboxMessage]) -> None:
        self.messages = list(messages)
        self.published: list[str] = []

    async def pending(self, limit: int) -> list[OutboxMessage]:
        return [m for m in self.messages if m.id not in self.published][:limit]

    async def mark_published(self, messages: Sequence[OutboxMessage]) -> None:
        self.published.extend(m.id for m in messages)

    async def purge_published(self, before: datetime) -> int:
        raise NotImplementedError


class MemoryInbox:
    """An InboxStore in memory; nothing here purges (the retention tests use real stores)."""

    def __init__(self) -> None:
        self.ids: set[tuple[str, str]] = set()

    async def seen(self, consumer: str, event_id: str) -> bool:
        return (consumer, event_id) in self.ids

    async def record(self, consumer: str, event_id: str) -> None:
        self.ids.add((consumer, event_id))

    async def purge(self, before: datetime) -> int:
        raise NotImplementedError


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
        got: list[Any] = []
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
        async def pending(self, limit: int) -> list[OutboxMessage]:
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
        row = OutboxMessage.of(event)
        # The same event delivered three times, then a record that is not an event at all.
        await publisher.send_all([row, row, row, replace(row, value="not json at all")])
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


async def send_raw(
    bootstrap: str,
    topic: str,
    records: list[tuple[int, bytes, bytes]],
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    """Sends ``(partition, key, value)`` records in order, each with ``headers``."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for partition, key, value in records:
            await producer.send_and_wait(
                topic, value, key=key, partition=partition, headers=headers
            )
    finally:
        await producer.stop()


async def read_topic(bootstrap: str, topic: str, count: int, timeout: float = 30) -> list:
    """The first ``count`` records of ``topic`` (waits for them)."""
    reader = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await reader.start()
    got: list = []
    try:
        async with asyncio.timeout(timeout):
            while len(got) < count:
                batch = await reader.getmany(timeout_ms=200)
                got += [m for msgs in batch.values() for m in msgs]
    finally:
        await reader.stop()
    return got


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def parked_total(service: str) -> float:
    return sum(
        sample.value
        for family in REGISTRY.collect()
        if family.name == "events_parked"
        for sample in family.samples
        if sample.name == "events_parked_total" and sample.labels["service"] == service
    )


def headers_of(record) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers}


def consumer_of(
    bootstrap: str, kind: str, handler: Callable[[CloudEvent], Awaitable[None]], *,
    group: str = "g", **options: Any,
) -> EventConsumer:  # fmt: skip
    """A consumer of ``<kind>.happened`` alone, as service ``test-<kind>`` in the group
    ``<group>-<kind>``, with an inbox in memory; ``options``: its retry tuning, its schemas."""
    return EventConsumer(
        bootstrap=bootstrap,
        group_id=f"{group}-{kind}",
        handlers={f"{kind}.happened": handler},
        inbox=MemoryInbox(),
        service=f"test-{kind}",
        **options,
    )


async def eventually(check, timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)


async def test_a_transient_failure_longer_than_the_old_window_is_retried_until_it_succeeds_once_in_order_while_other_partitions_flow(
    kafka_bootstrap,
):
    kind = f"slow{uuid.uuid4().hex[:6]}"
    service = f"test-{kind}"
    loop = asyncio.get_running_loop()
    first_attempt: float | None = None
    attempts: collections.Counter[str] = collections.Counter()
    handled: list[tuple[str, float]] = []

    async def handler(event):
        nonlocal first_attempt
        attempts[event.id] += 1
        if event.subject == "down":
            first_attempt = first_attempt or loop.time()
            # 4 s of an unexpected error (a bug until a deploy), then 4 s of an engine that
            # refuses connections: 8 s in all, beyond the old 5 s retry window.
            if loop.time() < first_attempt + 4:
                raise RuntimeError("a bug, until the fix is deployed")
            if loop.time() < first_attempt + 8:
                raise ConnectionRefusedError("the engine is down")
        handled.append((event.data["name"], loop.time()))

    consumer = consumer_of(kafka_bootstrap, kind, handler, retry_seconds=0.2, max_retry_seconds=1.0)
    [topic] = consumer.topics
    await ensure_topics(kafka_bootstrap, [*consumer.topics, *consumer.dead_letter_topics])

    def events(subject: str) -> list[CloudEvent]:
        return [
            new_event(
                f"{kind}.happened", source="t", subject=subject, data={"name": f"{subject}{n}"}
            )
            for n in range(3)
        ]

    down, up = events("down"), events("up")
    await send_raw(kafka_bootstrap, topic, [(0, b"down", e.to_json().encode()) for e in down])
    consumer.start()
    try:
        await eventually(lambda: first_attempt is not None)
        # Another partition's events, sent while the first partition's event keeps failing.
        await send_raw(kafka_bootstrap, topic, [(1, b"up", e.to_json().encode()) for e in up])
        await eventually(lambda: len(handled) == 3)
        assert first_attempt is not None
        assert loop.time() < first_attempt + 8
        assert (
            metric("events_retrying", service=service, cause="error")
            + metric("events_retrying", service=service, cause="unavailable")
            == 1
        )
        await eventually(lambda: len(handled) == 6, timeout=30)
        await asyncio.sleep(1.0)  # nothing more arrives
    finally:
        await consumer.stop()

    assert first_attempt is not None
    names = [name for name, _ in handled]
    assert names[:3] == ["up0", "up1", "up2"], "the other partition did not wait"
    assert names[3:] == ["down0", "down1", "down2"], "once each, in order"
    assert handled[3][1] >= first_attempt + 8
    assert attempts[down[0].id] >= 4
    assert all(attempts[e.id] == 1 for e in [*down[1:], *up])
    for cause in ("error", "unavailable"):
        assert metric("event_retries_total", service=service, type=f"{kind}.happened", cause=cause)
        assert metric("events_retrying", service=service, cause=cause) == 0
    assert parked_total(service) == 0


async def test_one_partitions_keys_are_handled_side_by_side_and_each_keys_events_in_order(
    kafka_bootstrap,
):
    """All in one partition: the events of a slow order (its handler waits) hold back neither
    the other orders' events nor the consumer's commit of them for long; its own second event
    waits for its first; a key's events keep their order however long each takes."""
    kind = f"keys{uuid.uuid4().hex[:6]}"
    slow_may_finish = asyncio.Event()
    handled: list[str] = []

    async def handler(event):
        name = event.data["name"]
        if name == "slow0":
            await slow_may_finish.wait()
        else:
            await asyncio.sleep(random.uniform(0, 0.05))
        handled.append(name)

    consumer = consumer_of(kafka_bootstrap, kind, handler, concurrency=4)
    [topic] = consumer.topics
    await ensure_topics(kafka_bootstrap, [*consumer.topics, *consumer.dead_letter_topics])

    def record(subject: str, n: int) -> tuple[int, bytes, bytes]:
        event = new_event(
            f"{kind}.happened", source="t", subject=subject, data={"name": f"{subject}{n}"}
        )
        return (0, subject.encode(), event.to_json().encode())

    others = [f"o{k}" for k in range(6)]
    await send_raw(
        kafka_bootstrap,
        topic,
        [record("slow", 0), *(record(o, n) for n in range(3) for o in others), record("slow", 1)],
    )
    consumer.start()
    try:
        await eventually(lambda: len(handled) == 3 * len(others))
        assert not {"slow0", "slow1"} & set(handled)
        slow_may_finish.set()
        await eventually(lambda: len(handled) == 3 * len(others) + 2)
    finally:
        await consumer.stop()

    assert handled[-2:] == ["slow0", "slow1"]
    for other in others:
        assert [h for h in handled if h.startswith(other)] == [f"{other}{n}" for n in range(3)]
    assert await committed(kafka_bootstrap, consumer.group_id, topic, 0) == 3 * len(others) + 2


async def committed(bootstrap: str, group: str, topic: str, partition: int) -> int | None:
    """The offset the group ``group`` committed on ``topic``'s ``partition``."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await reader.start()
    try:
        return await reader.committed(TopicPartition(topic, partition))
    finally:
        await reader.stop()


async def test_a_malformed_and_a_schema_invalid_event_are_parked_at_once_and_counted(
    kafka_bootstrap, tmp_path
):
    kind = "bad" + "".join(random.choices(string.ascii_lowercase, k=8))
    service = f"test-{kind}"
    (tmp_path / f"{kind}.happened.json").write_text(
        json.dumps({"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}})
    )
    handled: list[str] = []

    async def handler(event):
        handled.append(event.data["n"])

    consumer = consumer_of(
        kafka_bootstrap, kind, handler, schemas=EventSchemas(tmp_path), retry_seconds=2.0
    )
    [topic] = consumer.topics
    await ensure_topics(kafka_bootstrap, [*consumer.topics, *consumer.dead_letter_topics])
    invalid = new_event(f"{kind}.happened", source="t", subject="a", data={"n": "one"})
    valid = new_event(f"{kind}.happened", source="t", subject="a", data={"n": 1})
    await send_raw(
        kafka_bootstrap,
        topic,
        [
            (0, b"a", b"not json at all"),
            (0, b"a", invalid.to_json().encode()),
            (0, b"a", valid.to_json().encode()),
        ],
    )
    consumer.start()
    try:
        await eventually(lambda: handled == [1])
        parked = await read_topic(kafka_bootstrap, f"{topic}.dlq", 2)
    finally:
        await consumer.stop()

    assert [m.value for m in parked] == [b"not json at all", invalid.to_json().encode()]
    malformed, against_schema = (headers_of(m) for m in parked)
    assert malformed["shop-dlq-reason"] == "malformed"
    assert against_schema["shop-dlq-reason"] == "schema"
    assert "'one' is not of type 'integer'" in against_schema["shop-dlq-error"]
    for headers in (malformed, against_schema):
        assert headers["shop-dlq-group"] == f"g-{kind}"
        assert headers["shop-dlq-origin"].startswith(f"{topic}/0/")
    assert metric("events_parked_total", service=service, type="other", reason="malformed") == 1
    assert (
        metric("events_parked_total", service=service, type=f"{kind}.happened", reason="schema")
        == 1
    )
    for cause in ("error", "unavailable"):  # parked at once, never retried
        assert not metric(
            "event_retries_total", service=service, type=f"{kind}.happened", cause=cause
        )


async def test_a_rejected_event_is_parked_and_replayed_to_its_group_alone_once_fixed(
    kafka_bootstrap,
):
    kind = f"rej{uuid.uuid4().hex[:6]}"
    fixed = False
    handled: dict[str, list[str]] = {"fussy": [], "other": []}
    headers_seen: list[dict[str, str]] = []

    async def fussy(event):
        if not fixed:
            raise EventRejected("the handler cannot read this event (until the fix)")
        handled["fussy"].append(event.id)
        headers_seen.append(dict(event.headers))

    async def other(event):
        handled["other"].append(event.id)

    consumers = [
        consumer_of(kafka_bootstrap, kind, fussy, group="fussy"),
        consumer_of(kafka_bootstrap, kind, other, group="other"),
    ]
    topic = consumers[0].topics[0]
    await ensure_topics(kafka_bootstrap, [topic, f"{topic}.dlq"])
    event = new_event(f"{kind}.happened", source="t", subject="a", data={})
    traced = [("traceparent", TRACEPARENT.encode())]
    await send_raw(kafka_bootstrap, topic, [(0, b"a", event.to_json().encode())], traced)
    for c in consumers:
        c.start()
    try:
        [parked] = await read_topic(kafka_bootstrap, f"{topic}.dlq", 1)
        assert headers_of(parked)["shop-dlq-reason"] == "rejected"
        assert headers_of(parked)["traceparent"] == TRACEPARENT, "parking keeps the headers"
        labels = {"service": f"test-{kind}", "type": f"{kind}.happened", "reason": "rejected"}
        await eventually(lambda: metric("events_parked_total", **labels) == 1)
        await eventually(lambda: handled["other"] == [event.id])

        fixed = True  # the fix is deployed; the command re-delivers the parked event
        listing = await asyncio.create_subprocess_exec(
            *[sys.executable, "-m", "shopkit.events.replay", "--bootstrap", kafka_bootstrap],
            *["--group", f"fussy-{kind}", "--topic", topic, "--list"],
            stdout=asyncio.subprocess.PIPE,
        )
        stdout, _ = await asyncio.wait_for(listing.communicate(), 60)
        assert listing.returncode == 0
        listed = stdout.decode()
        assert f"{kind}.happened {event.id} [rejected: the handler cannot read" in listed
        assert "1 event(s) of group" in listed
        replayed = await replay_parked(kafka_bootstrap, f"fussy-{kind}", topic)
        assert [json.loads(p.value)["id"] for p in replayed] == [event.id]
        await eventually(lambda: handled["fussy"] == [event.id])
        # Replayed once: a second run finds nothing new, and the other group skipped it.
        assert await replay_parked(kafka_bootstrap, f"fussy-{kind}", topic) == []
        await asyncio.sleep(1.0)
    finally:
        for c in consumers:
            await c.stop()
    assert handled == {"fussy": [event.id], "other": [event.id]}
    assert headers_seen == [{"traceparent": TRACEPARENT}], "replayed with its own headers"


async def test_a_consumer_stopped_while_retrying_stops_at_once_and_the_event_is_not_lost(
    kafka_bootstrap,
):
    kind = f"stop{uuid.uuid4().hex[:6]}"
    attempts: list[str] = []
    handled: list[str] = []

    async def down(event):
        attempts.append(event.id)
        raise ConnectionRefusedError("the engine is down")

    async def up(event):
        handled.append(event.id)

    first = consumer_of(kafka_bootstrap, kind, down, retry_seconds=0.2)
    await ensure_topics(kafka_bootstrap, [*first.topics, *first.dead_letter_topics])
    event = new_event(f"{kind}.happened", source="t", subject="a", data={})
    await send_raw(kafka_bootstrap, first.topics[0], [(0, b"a", event.to_json().encode())])
    first.start()
    await eventually(lambda: len(attempts) >= 2)
    loop = asyncio.get_running_loop()
    stopping = loop.time()
    await first.stop()
    assert loop.time() - stopping < 8.0

    second = consumer_of(
        kafka_bootstrap, kind, up, retry_seconds=0.2
    )  # the service restarted (its offset was never committed)
    second.start()
    try:
        await eventually(lambda: handled == [event.id])
    finally:
        await second.stop()
    assert metric("events_retrying", service=f"test-{kind}", cause="unavailable") == 0


def test_unavailable_engines_and_services_are_told_apart_from_other_failures():
    class ServerSelectionTimeoutError(Exception):  # as pymongo names it, by its base class
        pass

    class ConnectionFailure(Exception):
        pass

    class AutoReconnect(ConnectionFailure):
        pass

    def raised_from(cause: BaseException) -> BaseException:
        try:
            raise RuntimeError("wrapped") from cause
        except RuntimeError as exc:
            return exc

    assert is_unavailable(Unavailable("The catalog database is busy; try again."))
    assert is_unavailable(ConnectionRefusedError())
    assert is_unavailable(TimeoutError())
    assert is_unavailable(AutoReconnect())
    assert is_unavailable(raised_from(ConnectionResetError()))
    assert not is_unavailable(ServerSelectionTimeoutError())
    assert not is_unavailable(RuntimeError("a bug"))
    assert not is_unavailable(KeyError("orderId"))


async def test_headers_written_with_an_event_reach_its_handler_and_old_rows_are_purged(
    kafka_bootstrap, tmp_path
):
    """One service's runtime end to end on a real database and broker: the event and its
    headers are written in the change's transaction, the relay sends the headers as the Kafka
    record's, the consumer hands them to the handler on the event, and the runtime's
    retention job then purges the published outbox row and the inbox row."""
    kind = "hdr" + "".join(random.choices(string.ascii_lowercase, k=8))
    event_type = f"{kind}.happened"
    (tmp_path / f"{event_type}.json").write_text(json.dumps({"type": "object"}))
    db = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'service.db'}")
    metadata = sa.MetaData()
    tables = outbox_table(metadata), inbox_table(metadata)
    async with db.begin() as connection:
        await connection.run_sync(metadata.create_all)
    factory = plain_sessions(db)
    outbox, inbox = SqlOutbox(factory, tables[0]), SqlInbox(factory, tables[1])
    second = 1 / 3600
    settings = ServiceSettings(
        service_name=f"test-{kind}",
        kafka_bootstrap=kafka_bootstrap,
        outbox_poll_seconds=0.1,
        outbox_retention_hours=second,
        inbox_retention_hours=second,
        event_retention_interval_seconds=0.2,
    )
    runtime = EventRuntime(settings, outbox=outbox, produces=[event_type])
    received: list[CloudEvent] = []

    async def handler(event: CloudEvent) -> None:
        received.append(event)

    runtime.consume(inbox, {event_type: handler}, schemas=EventSchemas(tmp_path))
    event = new_event(
        event_type, source="shop/test", subject="a-1", data={}, headers={"traceparent": TRACEPARENT}
    )

    async def count(table: sa.Table) -> int:
        async with db.connect() as connection:
            return int(await connection.scalar(sa.select(sa.func.count()).select_from(table)))

    try:
        async with runtime.running():
            async with factory.begin() as session:
                await outbox.add(session, event)
            runtime.notify()
            await eventually(lambda: bool(received))
            [record] = await read_topic(kafka_bootstrap, event.topic, 1)
            async with asyncio.timeout(10):  # recorded just after the handler returned
                assert runtime.consumer is not None
                while not await inbox.seen(runtime.consumer.group_id, event.id):
                    await asyncio.sleep(0.05)
            async with asyncio.timeout(30):  # both purged once a second old
                while await count(tables[0]) or await count(tables[1]):
                    await asyncio.sleep(0.1)
    finally:
        await db.dispose()

    assert headers_of(record) == {"traceparent": TRACEPARENT}
    [handled] = received
    assert (handled.id, handled.headers) == (event.id, {"traceparent": TRACEPARENT})
