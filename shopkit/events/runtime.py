"""Wires one service's events for its lifespan: the outbox relay, its consumer and the
retention job. The same for every service::

    runtime = EventRuntime(settings, outbox=outbox, produces=PRODUCES)
    service = SomeService(..., notify=runtime.notify)
    runtime.consume(inbox, handlers(service))   # a service that consumes events
    async with runtime.running():
        yield

The consumer is added after the runtime is built because its handlers call the service, and
the service needs ``runtime.notify`` (to wake the relay after a commit) to exist first.

A consumer checks every event it handles against the JSON Schema its producer keeps in the
repository (``subgraphs/<producer>/events/schemas/<type>.json``, the contract producers
validate against before an event enters their outbox): an event against its schema can never
succeed, and is parked at once instead of reaching the handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable

from shopkit.events.envelope import topic_for
from shopkit.events.inbox import InboxStore
from shopkit.events.kafka import (
    EventConsumer,
    EventValidator,
    Handler,
    KafkaPublisher,
    ensure_topics,
)
from shopkit.events.outbox import OutboxRelay, OutboxStore
from shopkit.events.retention import purge_old_events
from shopkit.events.schemas import ProducerSchemas
from shopkit.settings import ServiceSettings
from shopkit.tasks import BackgroundTask, periodic

log = logging.getLogger(__name__)


class EventRuntime:
    def __init__(
        self,
        settings: ServiceSettings,
        *,
        outbox: OutboxStore | None = None,
        produces: Iterable[str] = (),
    ) -> None:
        self.settings = settings
        self.outbox = outbox
        self.publisher = KafkaPublisher(settings.kafka_bootstrap)
        self.produces = list(produces)
        self.relay = (
            OutboxRelay(
                outbox,
                self.publisher,
                service=settings.service_name,
                poll_seconds=settings.outbox_poll_seconds,
            )
            if outbox is not None
            else None
        )
        self.inbox: InboxStore | None = None
        self.consumer: EventConsumer | None = None

    def consume(
        self,
        inbox: InboxStore,
        handlers: dict[str, Handler],
        schemas: EventValidator | None = None,
    ) -> None:
        """Adds the consumer of ``handlers``' event types (group id: the service name), which
        deduplicates with ``inbox``. Call before ``running()``. ``schemas`` defaults to the
        producers' JSON Schemas of the handled types."""
        self.inbox = inbox
        self.consumer = EventConsumer(
            bootstrap=self.settings.kafka_bootstrap,
            group_id=self.settings.consumer_group or self.settings.service_name,
            handlers=handlers,
            inbox=inbox,
            service=self.settings.service_name,
            schemas=schemas if schemas is not None else ProducerSchemas(handlers),
        )

    def notify(self) -> None:
        """Wake the relay: an outbox row was just committed."""
        if self.relay is not None:
            self.relay.notify()

    def _retention_job(self) -> BackgroundTask:
        """The retention job (``shopkit.events.retention``) of this service's outbox and
        inbox."""
        return periodic(
            lambda: purge_old_events(
                outbox=self.outbox,
                inbox=self.inbox,
                outbox_retention=self.settings.outbox_retention,
                inbox_retention=self.settings.inbox_retention,
            ),
            self.settings.event_retention_interval_seconds,
            name=f"{self.settings.service_name}-event-retention",
            what="purge of published outbox rows and old inbox rows",
        )

    async def _ensure_topics(self) -> None:
        topics = {topic_for(t) for t in self.produces}
        if self.consumer is not None:
            topics.update(self.consumer.topics, self.consumer.dead_letter_topics)
        try:
            await asyncio.wait_for(ensure_topics(self.settings.kafka_bootstrap, topics), 10)
        except Exception:
            log.warning("could not create topics yet; the broker may be down", exc_info=True)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[EventRuntime]:
        if not self.settings.events_enabled:
            yield self
            return
        await self._ensure_topics()
        if self.relay is not None:
            self.relay.start()
        if self.consumer is not None:
            self.consumer.start()
        try:
            async with self._retention_job().running():
                yield self
        finally:
            if self.consumer is not None:
                await self.consumer.stop()
            if self.relay is not None:
                await self.relay.stop()
            await self.publisher.stop()
