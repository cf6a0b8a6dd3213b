"""Kafka through aiokafka: the publisher the outbox relay sends with, and the consumer.

The embedded broker (Tansu) refuses the idempotent producer, so the publisher sends with
``acks="all"`` and every consumer deduplicates by event id instead: the consumer records each
handled event id in an ``InboxStore`` and commits the offset only after handling, so a crash
redelivers rather than loses, and a redelivery has no second effect. A message that keeps
failing is parked on ``<topic>.dlq`` after ``max_attempts`` so it cannot block its partition.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from shopkit.events.envelope import CloudEvent, topic_for
from shopkit.metrics import EVENTS_HANDLED
from shopkit.tasks import BackgroundTask

log = logging.getLogger(__name__)

Handler = Callable[[CloudEvent], Awaitable[None]]
CLIENT_STOP_SECONDS = 5.0
METADATA_MAX_AGE_MS = 5_000
TRUNCATION_CHECK_SECONDS = 1.0


async def _stop_within(stopping: Awaitable[None], seconds: float) -> None:
    """Stops a Kafka client, giving up after ``seconds``: a broker that stopped answering
    must not hang the service's shutdown."""
    try:
        await asyncio.wait_for(stopping, seconds)
    except Exception:
        log.warning("a Kafka client did not stop cleanly", exc_info=True)


async def ensure_topics(bootstrap: str, topics: Iterable[str], partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in set(topics) if t not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in missing]
                )
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


class KafkaPublisher:
    """Sends with ``acks="all"``. Connects on first use and reconnects after a failure, so a
    broker that is down at start-up or restarts later only delays the outbox."""

    def __init__(self, bootstrap: str, request_timeout_ms: int = 10_000) -> None:
        self.bootstrap = bootstrap
        self.request_timeout_ms = request_timeout_ms
        self._producer: AIOKafkaProducer | None = None

    async def _connected(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap,
                acks="all",
                enable_idempotence=False,
                request_timeout_ms=self.request_timeout_ms,
            )
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def stop(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await _stop_within(producer.stop(), CLIENT_STOP_SECONDS)

    async def send(self, topic: str, key: str, value: str) -> None:
        producer = await self._connected()
        try:
            await producer.send_and_wait(topic, value=value.encode(), key=key.encode())
        except Exception:
            await self.stop()
            raise


async def rewind_truncated(
    consumer: AIOKafkaConsumer, committed: dict[TopicPartition, int] | None = None
) -> list[TopicPartition]:
    """Reads a partition again from its start when the broker lost its data under us, and
    returns those partitions. Two signs: the partition's log now ends before our position,
    or the broker no longer has the offset we committed (``committed``: what this consumer
    committed last, per partition). The embedded broker keeps nothing across a restart, and a
    real cluster can lose data in an unclean failover; Kafka answers a fetch beyond the log
    with OFFSET_OUT_OF_RANGE, the embedded broker does not always. What was handled before is
    dropped by the inbox."""
    assigned = list(consumer.assignment())
    rewound: list[TopicPartition] = []
    if not assigned:
        return rewound
    try:
        ends = await consumer.end_offsets(assigned)
        for tp in assigned:
            position = await consumer.position(tp)
            ours = (committed or {}).get(tp)
            theirs = await consumer.committed(tp) if ours is not None else None
            if position > ends[tp] or (ours is not None and (theirs or 0) < ours):
                log.warning(
                    "the broker lost this partition's data; reading it from its start",
                    extra={
                        "partition": str(tp),
                        "position": position,
                        "end": ends[tp],
                        "committed": ours,
                        "broker_committed": theirs,
                    },
                )
                await consumer.seek_to_beginning(tp)
                if committed is not None:
                    committed.pop(tp, None)
                rewound.append(tp)
    except KafkaError:
        log.debug("could not check partition ends", exc_info=True)
    return rewound


class InboxStore(Protocol):
    async def seen(self, consumer: str, event_id: str) -> bool: ...

    async def record(self, consumer: str, event_id: str) -> None: ...


class EventConsumer:
    def __init__(
        self,
        *,
        bootstrap: str,
        group_id: str,
        handlers: dict[str, Handler],
        inbox: InboxStore,
        service: str,
        max_attempts: int = 5,
        retry_seconds: float = 0.5,
    ) -> None:
        self.bootstrap = bootstrap
        self.group_id = group_id
        self.handlers = handlers
        self.inbox = inbox
        self.service = service
        self.max_attempts = max_attempts
        self.retry_seconds = retry_seconds
        self.topics = sorted({topic_for(t) for t in handlers})
        self._task = BackgroundTask(self._run_forever, name=f"{group_id}-consumer")
        self._dlq: AIOKafkaProducer | None = None

    async def handle(self, event: CloudEvent) -> bool:
        """Handles one event once. Returns False when it was a duplicate or of no interest."""
        handler = self.handlers.get(event.type)
        if handler is None or await self.inbox.seen(self.group_id, event.id):
            return False
        await handler(event)
        await self.inbox.record(self.group_id, event.id)
        EVENTS_HANDLED.labels(self.service, event.type).inc()
        return True

    async def _handle_with_retries(self, topic: str, raw: bytes) -> None:
        try:
            event = CloudEvent.from_json(raw)
        except (ValueError, KeyError, TypeError):
            log.error("dropping a message that is not a CloudEvent", extra={"topic": topic})
            return
        for attempt in range(1, self.max_attempts + 1):
            try:
                await self.handle(event)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning(
                    "event handler failed",
                    exc_info=True,
                    extra={"event_id": event.id, "type": event.type, "attempt": attempt},
                )
                if attempt < self.max_attempts:
                    await asyncio.sleep(self.retry_seconds * attempt)
        assert self._dlq is not None
        await self._dlq.send_and_wait(f"{topic}.dlq", value=raw, key=event.subject.encode())
        log.error("event parked on the dead-letter topic", extra={"event_id": event.id})

    async def run(self) -> None:
        await ensure_topics(self.bootstrap, self.topics)
        consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            # Notice a topic that appears (or reappears: the embedded broker keeps no state
            # across a restart) within seconds, not the default five minutes.
            metadata_max_age_ms=METADATA_MAX_AGE_MS,
        )
        self._dlq = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        try:  # stopped even when cancelled while starting (a short-lived app)
            await self._dlq.start()
            await consumer.start()
            loop = asyncio.get_running_loop()
            checked = loop.time()
            committed: dict[TopicPartition, int] = {}
            while True:
                batch = await consumer.getmany(timeout_ms=1000)
                for tp, messages in batch.items():
                    for message in messages:
                        await self._handle_with_retries(message.topic, message.value)
                        await consumer.commit({tp: message.offset + 1})
                        committed[tp] = message.offset + 1
                if loop.time() - checked >= TRUNCATION_CHECK_SECONDS:
                    with contextlib.suppress(TimeoutError):  # no coordinator yet: next turn
                        await asyncio.wait_for(rewind_truncated(consumer, committed), 5)
                    checked = loop.time()
        finally:
            for client in (consumer, self._dlq):
                await _stop_within(client.stop(), CLIENT_STOP_SECONDS)

    async def _run_forever(self) -> None:
        while True:
            try:
                await self.run()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("consumer stopped; restarting", exc_info=True)
                await asyncio.sleep(1.0)

    def start(self) -> None:
        self._task.start()

    async def stop(self) -> None:
        await self._task.stop()
