"""Wires one service's events for its lifespan: the outbox relay and its consumers.

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
from pathlib import Path
from typing import Any

from shopkit.events.envelope import topic_for
from shopkit.events.kafka import (
    EventConsumer,
    EventValidator,
    Handler,
    InboxStore,
    KafkaPublisher,
    ensure_topics,
)
from shopkit.events.outbox import OutboxRelay, OutboxStore
from shopkit.events.schemas import EventSchemas, UnknownEventType
from shopkit.settings import REPO_ROOT, ServiceSettings

log = logging.getLogger(__name__)

SUBGRAPHS_DIR = REPO_ROOT / "subgraphs"


class ProducerSchemas:
    """The JSON Schemas of the given event types, found in their producers' folders."""

    def __init__(self, types: Iterable[str], root: Path = SUBGRAPHS_DIR) -> None:
        found: dict[str, EventSchemas] = {}
        for folder in sorted(root.glob("*/events/schemas")):
            schemas = EventSchemas(folder)
            found.update({t: schemas for t in schemas.types})
        missing = sorted(set(types) - set(found))
        if missing:
            raise UnknownEventType(
                f"no producer under {root} has a JSON Schema for {', '.join(missing)}"
            )
        self._by_type = {t: found[t] for t in types}

    def validate(self, event: dict[str, Any]) -> None:
        schemas = self._by_type.get(str(event.get("type")))
        if schemas is None:
            raise UnknownEventType(f"no JSON Schema for event type {event.get('type')!r}")
        schemas.validate(event)


class EventRuntime:
    def __init__(
        self,
        settings: ServiceSettings,
        *,
        outbox: OutboxStore | None = None,
        produces: Iterable[str] = (),
        inbox: InboxStore | None = None,
        handlers: dict[str, Handler] | None = None,
    ) -> None:
        self.settings = settings
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
        self.consumer: EventConsumer | None = None
        if handlers and inbox is not None:
            self.consume(inbox, handlers)

    def consume(
        self,
        inbox: InboxStore,
        handlers: dict[str, Handler],
        schemas: EventValidator | None = None,
    ) -> None:
        """Adds the consumer after construction: its handlers usually call the service, which
        needs ``notify`` from this runtime to exist first. Call before ``running()``.
        ``schemas`` defaults to the producers' JSON Schemas of the handled types."""
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
            yield self
        finally:
            if self.consumer is not None:
                await self.consumer.stop()
            if self.relay is not None:
                await self.relay.stop()
            await self.publisher.stop()
