"""The transactional outbox relay.

A service writes each event as an outbox row in the same database transaction as the change it
describes; the relay publishes pending rows to Kafka in the order they were written and marks
them published. If the broker is down the rows wait; if the process dies between publishing and
marking, the row is published again and consumers drop the duplicate by event id (the outbox
row id is the event id).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from shopkit.metrics import EVENTS_PUBLISHED
from shopkit.tasks import BackgroundTask

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxMessage:
    id: str
    topic: str
    key: str
    value: str
    type: str = ""


class OutboxStore(Protocol):
    async def pending(self, limit: int) -> list[OutboxMessage]:
        """Unpublished messages, oldest first."""

    async def mark_published(self, ids: list[str]) -> None: ...


class Publisher(Protocol):
    async def send(self, topic: str, key: str, value: str) -> None: ...


class OutboxRelay:
    def __init__(
        self,
        store: OutboxStore,
        publisher: Publisher,
        *,
        service: str,
        poll_seconds: float = 0.5,
        batch_size: int = 100,
        max_backoff: float = 5.0,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.service = service
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.max_backoff = max_backoff
        self._wake = asyncio.Event()
        self._task = BackgroundTask(self.run, name=f"{service}-outbox-relay")

    def notify(self) -> None:
        """Something was written to the outbox: publish it without waiting for the next poll."""
        self._wake.set()

    async def relay_once(self) -> int:
        messages = await self.store.pending(self.batch_size)
        for message in messages:
            await self.publisher.send(message.topic, message.key, message.value)
            await self.store.mark_published([message.id])
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
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
            except TimeoutError:
                pass

    def start(self) -> None:
        self._task.start()

    async def stop(self) -> None:
        await self._task.stop()
