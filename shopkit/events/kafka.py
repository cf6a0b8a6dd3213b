"""Kafka through aiokafka: the publisher the outbox relay sends with, and the consumer.

The publisher is Kafka's idempotent producer with ``acks="all"``: a send retried after a lost
answer is written once. The relay itself may still publish a row twice (it dies between
sending and marking the row published), so every consumer also deduplicates by event id: it
records each handled event id in an ``InboxStore`` and commits the offset only after handling,
so a crash redelivers rather than loses, and a redelivery has no second effect. A message
that keeps failing is parked on ``<topic>.dlq`` after ``max_attempts`` so it cannot block its
partition.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shopkit.events.envelope import CloudEvent, topic_for
from shopkit.metrics import EVENTS_HANDLED
from shopkit.tasks import BackgroundTask

log = logging.getLogger(__name__)

Handler = Callable[[CloudEvent], Awaitable[None]]
CLIENT_STOP_SECONDS = 5.0
DEAD_LETTER_SUFFIX = ".dlq"


def dead_letter_topic(topic: str) -> str:
    return f"{topic}{DEAD_LETTER_SUFFIX}"


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


def idempotent_producer(bootstrap: str, request_timeout_ms: int = 10_000) -> AIOKafkaProducer:
    """A producer whose retries never duplicate a record, acknowledged by every in-sync
    replica."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=request_timeout_ms,
    )


class KafkaPublisher:
    """Sends with the idempotent producer. Connects on first use and reconnects after a
    failure, so a broker that is down at start-up or restarts later only delays the outbox."""

    def __init__(self, bootstrap: str, request_timeout_ms: int = 10_000) -> None:
        self.bootstrap = bootstrap
        self.request_timeout_ms = request_timeout_ms
        self._producer: AIOKafkaProducer | None = None

    async def _connected(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = idempotent_producer(self.bootstrap, self.request_timeout_ms)
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
        await self._dlq.send_and_wait(
            dead_letter_topic(topic), value=raw, key=event.subject.encode()
        )
        log.error("event parked on the dead-letter topic", extra={"event_id": event.id})

    @property
    def dead_letter_topics(self) -> list[str]:
        return [dead_letter_topic(t) for t in self.topics]

    async def run(self) -> None:
        await ensure_topics(self.bootstrap, [*self.topics, *self.dead_letter_topics])
        consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        self._dlq = idempotent_producer(self.bootstrap)
        try:  # stopped even when cancelled while starting (a short-lived app)
            await self._dlq.start()
            await consumer.start()
            while True:
                batch = await consumer.getmany(timeout_ms=1000)
                for tp, messages in batch.items():
                    for message in messages:
                        await self._handle_with_retries(message.topic, message.value)
                        await consumer.commit({tp: message.offset + 1})
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
