"""The outbox contract and its relay.

A service writes each event as an outbox row in the same database transaction as the change it
describes, so the event exists if and only if the change committed; the relay publishes
pending rows to Kafka in the order they were written and marks them published. If the broker
is down the rows wait; if the process dies between publishing and marking, the row is
published again and consumers drop the duplicate by event id. Published rows are purged after
a retention period (``shopkit.events.retention``).

Every implementation (``shopkit.events.store``: SQL, MongoDB, CQL) keeps the same row: the
event id as the row's id, the event's type and topic, the aggregate id (the event's subject)
as the Kafka key, the event's JSON, and its ``headers``, all written with the change. How a row
is written inside the change's transaction is the engine's own (an SQL session, a MongoDB
session or a document, a statement of a CQL conditional batch); what the relay and the
retention job need from it is ``OutboxStore``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field, replace
from datetime import datetime
from typing import Protocol

from shopkit.events.envelope import CloudEvent
from shopkit.metrics import EVENTS_PUBLISHED
from shopkit.tasks import BackgroundTask
from shopkit.tracing import publishing

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxMessage:
    """A row waiting for the relay: ``id`` is the event id, ``key`` the aggregate id."""

    id: str
    topic: str
    key: str
    value: str
    type: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, event: CloudEvent) -> OutboxMessage:
        return cls(
            id=event.id,
            topic=event.topic,
            key=event.subject,
            value=event.to_json(),
            type=event.type,
            headers=dict(event.headers),
        )


class OutboxStore(Protocol):
    async def pending(self, limit: int) -> list[OutboxMessage]:
        """Unpublished messages, oldest first."""

    async def mark_published(self, messages: Sequence[OutboxMessage]) -> None:
        """Marks these messages published (they are not pending any more)."""

    async def purge_published(self, before: datetime) -> int:
        """Deletes the messages published before ``before``; answers how many went. Pending
        messages stay, however old."""


class Publisher(Protocol):
    async def send_all(self, messages: Sequence[OutboxMessage]) -> None:
        """Publishes ``messages`` (each to its topic, keyed by its key, with its headers) in
        their order within each partition; returns once the broker has them all."""


@dataclass(eq=False)
class OutboxRelay:
    store: OutboxStore
    publisher: Publisher
    _: KW_ONLY
    service: str
    poll_seconds: float = 0.5
    batch_size: int = 100
    max_backoff: float = 5.0

    def __post_init__(self) -> None:
        self._wake = asyncio.Event()
        self._task = BackgroundTask(self.run, name=f"{self.service}-outbox-relay")

    def notify(self) -> None:
        """Something was written to the outbox: publish it without waiting for the next poll."""
        self._wake.set()

    async def relay_once(self) -> int:
        """Publishes up to ``batch_size`` pending rows in one go and then marks them published
        in one write: under a rush the rows of many checkouts leave in one produce request and
        one UPDATE, not a round trip to the broker and one to the database each. If the
        publishing fails, none is marked, and the ones that did reach the broker are
        published again on the next pass (consumers drop them by event id)."""
        messages = await self.store.pending(self.batch_size)
        if not messages:
            return 0
        with contextlib.ExitStack() as spans:  # one producer span per row, as long as the send
            await self.publisher.send_all(
                [
                    replace(m, headers=spans.enter_context(publishing(m.topic, m.headers)))
                    for m in messages
                ]
            )
        await self.store.mark_published(messages)
        for message in messages:
            EVENTS_PUBLISHED.labels(self.service, message.type or message.topic).inc()
        return len(messages)

    async def run(self) -> None:
        backoff = self.poll_seconds
        while True:
            # Cleared before reading the outbox, so that a notify() arriving while this pass
            # runs is not lost: the wait below then returns at once.
            self._wake.clear()
            try:
                sent = await self.relay_once()
                backoff = self.poll_seconds
                if sent:
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("outbox relay failed; will retry", exc_info=True)
                backoff = min(backoff * 2, self.max_backoff)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)

    def start(self) -> None:
        self._task.start()

    async def stop(self) -> None:
        await self._task.stop()
