"""The fan-out of a topic to this process's watchers (``shopkit.events.fanout``), on a real
Kafka broker: every process sees every record, whichever consumer group handles it."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer

from shopkit.events.fanout import KeyedFanout
from shopkit.events.kafka import ensure_topics, idempotent_producer


async def started(fanout: KeyedFanout, topic: str, bootstrap: str) -> None:
    """Waits until the fan-out's consumer has its partitions (it starts at the log's end)."""
    probe = fanout.register("probe", "probe")
    producer = idempotent_producer(bootstrap)
    await producer.start()
    try:
        for _ in range(100):
            await producer.send_and_wait(topic, b"{}", key=b"probe")
            if await probe.woken(0.2):
                # the wake on (re)connection counts too; drain it with a second record
                await producer.send_and_wait(topic, b"{}", key=b"probe")
                if await probe.woken(2):
                    break
        else:
            raise AssertionError("the fan-out never started")
    finally:
        await producer.stop()
        fanout.unregister(probe)


async def test_every_process_wakes_its_watchers_of_a_record_key(kafka_bootstrap):
    topic = f"shop.fanout{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka_bootstrap, [topic])
    one = KeyedFanout(kafka_bootstrap, topic, max_total=10, max_per_owner=10)
    two = KeyedFanout(kafka_bootstrap, topic, max_total=10, max_per_owner=10)
    # A consumer group member beside them, as the orders consumers are: it takes no record
    # away from the fan-outs.
    member = AIOKafkaConsumer(topic, bootstrap_servers=kafka_bootstrap, group_id="orders-x")
    await member.start()
    try:
        async with one.running(), two.running():
            await started(one, topic, kafka_bootstrap)
            await started(two, topic, kafka_bootstrap)
            on_one = one.register("order-1", "alice")
            on_two = two.register("order-1", "bob")
            other = two.register("order-2", "bob")
            producer = idempotent_producer(kafka_bootstrap)
            await producer.start()
            try:
                await producer.send_and_wait(topic, b"{}", key=b"order-1")
            finally:
                await producer.stop()
            assert await on_one.woken(5)
            assert await on_two.woken(5)
            assert not await other.woken(0.5)
            assert one.open_watches == 1
            assert two.open_watches == 2
        # Leaving ``running`` closes every watcher, so its stream can tell the client.
        assert on_one.closed
        assert on_two.closed
        assert other.closed
    finally:
        await member.stop()


async def test_a_record_without_watchers_or_key_is_ignored(kafka_bootstrap):
    topic = f"shop.fanout{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka_bootstrap, [topic])
    fanout = KeyedFanout(kafka_bootstrap, topic, max_total=10, max_per_owner=10)
    async with fanout.running():
        await started(fanout, topic, kafka_bootstrap)
        watch = fanout.register("order-1", "alice")
        producer = idempotent_producer(kafka_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(topic, b"{}")  # no key
            await producer.send_and_wait(topic, b"{}", key=b"order-9")
            await producer.send_and_wait(topic, b"{}", key=b"order-1")
        finally:
            await producer.stop()
        assert await asyncio.wait_for(watch.woken(5), 6)
