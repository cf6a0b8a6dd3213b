"""Kafka through aiokafka: the publisher the outbox relay sends with, and the consumer.

The publisher is Kafka's idempotent producer with ``acks="all"``: a send retried after a lost
answer is written once. The relay itself may still publish a row twice (it dies between
sending and marking the row published), so every consumer also deduplicates by event id: it
records each handled event id in an ``InboxStore`` and commits the offset only after handling,
so a crash redelivers rather than loses, and a redelivery has no second effect. The record's
headers (the outbox row's) reach the handler on the event (``CloudEvent.headers``).

What a consumer does with an event that fails (``EventConsumer``):

* It retries it, with back-off, for as long as it fails. An engine or a service that is down
  comes back; an outage must delay an event's effect, never lose it (a parked
  ``payment.succeeded`` left a paid order unpaid until it expired). A failure the kit cannot
  tell to be transient (a bug) is retried too and logged as an error: retrying keeps the
  partition's order and heals itself once the cause is fixed and deployed, where parking would
  lose the effect until someone replays the event by hand.
* Only the event's own aggregate waits. Each partition's fetched records are handled by a
  task of their own while the consumer pauses fetching that partition, so the other partitions
  keep flowing; inside that task the records of different keys (aggregates: other orders,
  other payments) are handled side by side, up to ``EventConsumer.concurrency`` at a time,
  and the records of one key one after another in offset order. That is the order Kafka
  itself promises (per key, never across keys); the partition's offset is committed once
  the whole fetch is done.
* It parks on ``<topic>.dlq`` only what can never succeed: a message that is not a CloudEvent,
  an event against its type's JSON Schema, or one its handler rejects by raising
  ``EventRejected``. The parked record keeps its own headers and adds the consumer group and
  the reason; ``python -m shopkit.events.replay`` re-delivers a group's parked events to that
  group alone once the cause is fixed. ``/metrics`` counts parked events
  (``events_parked_total``) and events waiting for a retry (``events_retrying``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import jsonschema
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.structs import ConsumerRecord, TopicPartition

from shopkit.errors import Unavailable
from shopkit.events.envelope import KIT_HEADER_PREFIX, CloudEvent, topic_for
from shopkit.events.inbox import InboxStore
from shopkit.events.outbox import OutboxMessage
from shopkit.events.schemas import UnknownEventType
from shopkit.metrics import EVENT_RETRIES, EVENTS_HANDLED, EVENTS_PARKED, EVENTS_RETRYING
from shopkit.tasks import BackgroundTask
from shopkit.tracing import consuming

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
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in missing]
                )
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

    async def send_all(self, messages: Sequence[OutboxMessage]) -> None:
        """Hands every message to the producer in order (which keeps that order within each
        partition: it is idempotent, one request in flight per partition), then waits for the
        broker to acknowledge them all, so they go in as few produce requests as it batches."""
        producer = await self._connected()
        try:
            delivered = [
                await producer.send(
                    m.topic,
                    value=m.value.encode(),
                    key=m.key.encode(),
                    headers=[(name, text.encode()) for name, text in m.headers.items()],
                )
                for m in messages
            ]
            await asyncio.gather(*delivered)
        except Exception:
            await self.stop()
            raise


class EventValidator(Protocol):
    """Checks a raw event (the envelope and its ``data``), raising
    ``jsonschema.ValidationError`` or ``UnknownEventType``; ``EventSchemas`` is one."""

    def validate(self, event: dict[str, Any]) -> None: ...


class EventRejected(Exception):
    """Raised by a handler for an event that can never succeed, however often it is tried
    (its data contradicts what the handler knows for certain): the consumer parks it on the
    dead-letter topic at once instead of retrying. Anything else a handler raises is retried."""


# Why an event was parked (the ``reason`` label and the ``shop-dlq-reason`` header).
MALFORMED = "malformed"  # not a CloudEvent
SCHEMA = "schema"  # against its type's JSON Schema
REJECTED = "rejected"  # its handler raised EventRejected

# Headers of a parked record, and of a record re-delivered by the replay command.
GROUP_HEADER = "shop-dlq-group"
REASON_HEADER = "shop-dlq-reason"
ERROR_HEADER = "shop-dlq-error"
ORIGIN_HEADER = "shop-dlq-origin"  # "<topic>/<partition>/<offset>" it was parked from
REPLAY_FOR_HEADER = "shop-replay-for"  # the one consumer group a replayed record is for
MAX_ERROR_CHARS = 500

# Driver errors, by class name (the kit imports no database driver), that mean an engine is
# unreachable or overloaded: pymongo's ConnectionFailure (AutoReconnect, NetworkTimeout,
# ServerSelectionTimeoutError), acsylla's connection and timeout errors, SQLAlchemy's and
# PyMySQL's OperationalError (lost connection, lock wait), Kafka's connection errors.
UNAVAILABLE_ERRORS = frozenset(
    {
        "ConnectionFailure",
        "CassExceptionConnectionError",
        "CassErrorLibNoHostsAvailable",
        "CassErrorLibUnableToConnect",
        "CassErrorLibRequestTimedOut",
        "CassErrorLibRequestQueueFull",
        "CassErrorServerUnavailable",
        "CassErrorServerOverloaded",
        "CassErrorServerIsBootstrapping",
        "CassErrorServerReadTimeout",
        "CassErrorServerWriteTimeout",
        "OperationalError",
        "DisconnectionError",
        "KafkaConnectionError",
    }
)


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or an error it was raised from) says that an engine or a service did
    not answer: expected during an outage, so logged as a warning and counted with the cause
    ``unavailable``. Anything else is logged as an error; both are retried alike."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, Unavailable | OSError | TimeoutError):
            return True
        if UNAVAILABLE_ERRORS.intersection(c.__name__ for c in type(current).__mro__):
            return True
        current = current.__cause__ or current.__context__
    return False


def _header(message: ConsumerRecord[bytes, bytes], name: str) -> str | None:
    for key, value in message.headers or ():
        if key == name:
            return value.decode(errors="replace")
    return None


def event_headers(message: ConsumerRecord[bytes, bytes]) -> dict[str, str]:
    """The headers the event's outbox row carried: the record's, but the kit's own."""
    return {
        key: value.decode(errors="replace")
        for key, value in message.headers or ()
        if not key.startswith(KIT_HEADER_PREFIX)
    }


@dataclass(eq=False, kw_only=True)
class EventConsumer:
    """Consumes the topics of ``handlers``' event types in the consumer group ``group_id``.

    Each event is handled at most once per group (the inbox), its offset committed after it
    is handled or parked. A failing event is retried with back-off from ``retry_seconds`` up
    to ``max_retry_seconds`` between attempts, for as long as it fails, while the other
    keys go on. Up to ``concurrency`` events of different keys are handled at once, so a
    handler must be safe to run beside itself for other aggregates (every handler is: each
    changes its own aggregate under its store's own concurrency control). ``schemas``, when
    given, checks each event of a handled type before its handler sees it.
    """

    bootstrap: str
    group_id: str
    handlers: dict[str, Handler]
    inbox: InboxStore
    service: str
    schemas: EventValidator | None = None
    retry_seconds: float = 0.5
    max_retry_seconds: float = 10.0
    concurrency: int = 16

    def __post_init__(self) -> None:
        self.topics = sorted({topic_for(t) for t in self.handlers})
        self._task = BackgroundTask(self._run_forever, name=f"{self.group_id}-consumer")
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

    async def process(self, message: ConsumerRecord[bytes, bytes]) -> None:
        """Takes one record to its end: handled (or a duplicate, or of no interest to this
        group) or parked. Returns only then; a failing handler is retried in here."""
        replay_for = _header(message, REPLAY_FOR_HEADER)
        if replay_for is not None and replay_for != self.group_id:
            return  # another group's parked event, re-delivered for that group alone
        raw = message.value or b""
        try:
            event = CloudEvent.from_json(raw).with_headers(event_headers(message))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            await self._park(message, "other", MALFORMED, f"not a CloudEvent: {exc!r}")
            return
        if event.type not in self.handlers:
            return
        if self.schemas is not None:
            try:
                self.schemas.validate(json.loads(raw))
            except (jsonschema.ValidationError, UnknownEventType) as exc:
                error = exc.message if isinstance(exc, jsonschema.ValidationError) else str(exc)
                await self._park(message, event.type, SCHEMA, error)
                return
        with consuming(self.group_id, event.type, event.id, event.headers):
            await self._handle_until_done(message, event)

    async def _handle_until_done(
        self, message: ConsumerRecord[bytes, bytes], event: CloudEvent
    ) -> None:
        delay = self.retry_seconds
        waiting: str | None = None  # the cause this event is counted under in EVENTS_RETRYING
        attempt = 0
        try:
            while True:
                attempt += 1
                try:
                    await self.handle(event)
                    if attempt > 1:
                        log.info(
                            "event handled after %d attempts",
                            attempt,
                            extra={"event_id": event.id, "type": event.type},
                        )
                    return
                except EventRejected as exc:
                    await self._park(message, event.type, REJECTED, str(exc))
                    return
                except Exception as exc:
                    cause = "unavailable" if is_unavailable(exc) else "error"
                    EVENT_RETRIES.labels(self.service, event.type, cause).inc()
                    if waiting != cause:
                        if waiting is not None:
                            EVENTS_RETRYING.labels(self.service, waiting).dec()
                        EVENTS_RETRYING.labels(self.service, cause).inc()
                        waiting = cause
                    self._log_failure(event, attempt, cause, delay)
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self.max_retry_seconds)
        finally:
            if waiting is not None:
                EVENTS_RETRYING.labels(self.service, waiting).dec()

    def _log_failure(self, event: CloudEvent, attempt: int, cause: str, delay: float) -> None:
        """Every failed attempt is logged, with the traceback on the first and every tenth
        (an outage must not fill the log with the same traceback)."""
        extra = {"event_id": event.id, "type": event.type, "attempt": attempt}
        what = (
            "an engine or a service is unavailable"
            if cause == "unavailable"
            else "the handler failed"
        )
        log.log(
            logging.WARNING if cause == "unavailable" else logging.ERROR,
            "event not handled (%s); retrying in %.1fs",
            what,
            delay,
            exc_info=attempt % 10 == 1,
            extra=extra,
        )

    async def _park(
        self, message: ConsumerRecord[bytes, bytes], event_type: str, reason: str, error: str
    ) -> None:
        """Writes the record to ``<topic>.dlq`` with its own headers and why and for whom it was
        parked; retried until the broker takes it (the offset is committed only after)."""
        headers = [
            *((k, v) for k, v in message.headers or () if not k.startswith(KIT_HEADER_PREFIX)),
            (GROUP_HEADER, self.group_id.encode()),
            (REASON_HEADER, reason.encode()),
            (ERROR_HEADER, error[:MAX_ERROR_CHARS].encode()),
            (ORIGIN_HEADER, f"{message.topic}/{message.partition}/{message.offset}".encode()),
        ]
        delay = self.retry_seconds
        while True:
            try:
                assert self._dlq is not None, "the consumer is not running"
                await self._dlq.send_and_wait(
                    dead_letter_topic(message.topic),
                    value=message.value,
                    key=message.key,
                    headers=headers,
                )
                break
            except KafkaError:
                log.warning("could not park an event yet; retrying", exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_retry_seconds)
        label = event_type if event_type in self.handlers else "other"
        EVENTS_PARKED.labels(self.service, label, reason).inc()
        log.error(
            "event parked on the dead-letter topic",
            extra={
                "topic": message.topic,
                "offset": message.offset,
                "type": label,
                "reason": reason,
                "error": error[:MAX_ERROR_CHARS],
            },
        )

    @property
    def dead_letter_topics(self) -> list[str]:
        return [dead_letter_topic(t) for t in self.topics]

    async def run(self) -> None:
        await ensure_topics(self.bootstrap, [*self.topics, *self.dead_letter_topics])
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        partitions = _PartitionWork(self, consumer)
        consumer.subscribe(self.topics, listener=partitions)
        self._dlq = idempotent_producer(self.bootstrap)
        try:  # stopped even when cancelled while starting (a short-lived app)
            await self._dlq.start()
            await consumer.start()
            while True:
                partitions.raise_failure()
                batch = await consumer.getmany(timeout_ms=500)
                for tp, messages in batch.items():
                    partitions.hand_over(tp, messages)
        finally:
            await partitions.cancel(partitions.running())
            await asyncio.gather(
                _stop_within(consumer.stop(), CLIENT_STOP_SECONDS),
                _stop_within(self._dlq.stop(), CLIENT_STOP_SECONDS),
            )

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


class _PartitionWork(ConsumerRebalanceListener):
    """One task per partition with records in hand; the partition is paused while its task
    runs, so a failing event holds back its own partition's fetching and no other.

    The task handles the records of each key (aggregate) in offset order and different keys
    side by side, at most ``owner.concurrency`` records at once: a flash sale's fifty payments
    in one partition are fifty orders, and none waits for another's round trips to Cassandra
    and the broker. The offset after the fetch is committed once every record in it is done
    (one commit per fetch, not per record). When the group takes a partition away, its task
    is cancelled before the partition goes: its records not committed are delivered again to
    the new owner, whose inbox drops those already handled."""

    STOP_SECONDS = 2.0

    def __init__(self, owner: EventConsumer, consumer: AIOKafkaConsumer) -> None:
        self.owner = owner
        self.consumer = consumer
        self.tasks: dict[TopicPartition, asyncio.Task[None]] = {}
        self.failure: BaseException | None = None

    def running(self) -> list[TopicPartition]:
        return list(self.tasks)

    def hand_over(self, tp: TopicPartition, messages: list[ConsumerRecord[bytes, bytes]]) -> None:
        if tp in self.tasks:
            raise RuntimeError(f"{tp} was fetched while its records were being handled")
        self.consumer.pause(tp)
        self.tasks[tp] = asyncio.create_task(
            self._work(tp, messages), name=f"{self.owner.group_id}-{tp.topic}-{tp.partition}"
        )

    async def _work(self, tp: TopicPartition, messages: list[ConsumerRecord[bytes, bytes]]) -> None:
        try:
            await self._handle_by_key(messages)
            if messages:
                await self._commit(tp, messages[-1].offset + 1)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self.failure = exc  # the consumer restarts from the committed offsets
            raise
        finally:
            if self.tasks.get(tp) is asyncio.current_task():
                del self.tasks[tp]
        if tp in self.consumer.assignment():
            self.consumer.resume(tp)

    async def _handle_by_key(self, messages: list[ConsumerRecord[bytes, bytes]]) -> None:
        """Each key's records in order, the keys side by side (records without a key form
        one sequence of their own)."""
        by_key: dict[bytes | None, list[ConsumerRecord[bytes, bytes]]] = {}
        for message in messages:
            by_key.setdefault(message.key, []).append(message)
        slots = asyncio.Semaphore(max(1, self.owner.concurrency))

        async def in_order(records: list[ConsumerRecord[bytes, bytes]]) -> None:
            for record in records:
                async with slots:
                    await self.owner.process(record)

        async with asyncio.TaskGroup() as group:
            for records in by_key.values():
                group.create_task(in_order(records))

    async def _commit(self, tp: TopicPartition, offset: int) -> None:
        """A commit that fails (the broker is restarting) is not retried: the next fetch's
        commit covers this one, and a record delivered again is dropped by the inbox."""
        try:
            await self.consumer.commit({tp: offset})
        except KafkaError:
            log.warning(
                "could not commit an offset",
                exc_info=True,
                extra={"topic": tp.topic, "partition": tp.partition, "offset": offset},
            )

    def raise_failure(self) -> None:
        if self.failure is not None:
            failure, self.failure = self.failure, None
            raise RuntimeError("a partition's task failed") from failure

    async def cancel(self, partitions: Iterable[TopicPartition]) -> None:
        """Cancels the tasks of ``partitions`` and waits for them, at most STOP_SECONDS."""
        tasks = [self.tasks.pop(tp) for tp in partitions if tp in self.tasks]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=self.STOP_SECONDS)

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self.cancel(revoked)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        pass
