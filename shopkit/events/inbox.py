"""The inbox contract: the ids of the events a consumer group has handled.

The consumer (``shopkit.events.kafka.EventConsumer``) asks ``seen`` before handling an event
and calls ``record`` after, so a redelivered event (the relay published it twice, or an offset
was not committed before a crash) has no second effect. Rows older than the inbox retention
are purged (``shopkit.events.retention``): longer than Kafka keeps a record, so no record that
can still be delivered has lost its row. Implementations: ``shopkit.events.store``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class InboxStore(Protocol):
    async def seen(self, consumer: str, event_id: str) -> bool:
        """Whether the group ``consumer`` has handled the event ``event_id``."""

    async def record(self, consumer: str, event_id: str) -> None:
        """Remembers that ``consumer`` handled ``event_id`` (recording it twice is no error)."""

    async def purge(self, before: datetime) -> int:
        """Forgets the events handled before ``before``; answers how many went."""
