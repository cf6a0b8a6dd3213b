"""The retention job: the same in every service, run by ``EventRuntime`` in its lifespan.

Every ``SHOP_EVENT_RETENTION_INTERVAL_SECONDS`` (an hour) it deletes

* outbox rows published more than ``SHOP_OUTBOX_RETENTION_HOURS`` ago (168, a week): a
  published row is needed only until it is on Kafka; the week leaves time to look at what a
  service sent. Rows not yet published stay, however old;
* inbox rows recorded more than ``SHOP_INBOX_RETENTION_HOURS`` ago (504, three weeks). The
  inbox must outlive every copy of the event that can still be delivered, or a redelivery
  would be handled twice. Kafka (``engines/kafka/server.properties``) keeps a record for
  ``log.retention.hours=168`` *after its segment is closed*, and a segment stays open up to
  ``log.roll.hours`` (168 by default), so a record can be read for up to 336 hours (two
  weeks) after it was written; a consumer group whose committed offsets expired (7 days
  without members) starts again from the earliest record. Three weeks covers those two
  weeks with a week to spare, e.g. for a replay from the dead-letter topic.

Where the engine expires rows itself, the job has nothing to do: the CQL outbox and inbox are
written with a TTL of the same settings (``shopkit.events.store.cql``), so on orders both
purges answer 0. Several replicas running the job at once delete the same rows; that is
harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shopkit.events.inbox import InboxStore
from shopkit.events.outbox import OutboxStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Purged:
    outbox: int
    inbox: int


class EventRetention:
    def __init__(
        self,
        *,
        outbox: OutboxStore | None,
        inbox: InboxStore | None,
        outbox_retention: timedelta,
        inbox_retention: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.outbox = outbox
        self.inbox = inbox
        self.outbox_retention = outbox_retention
        self.inbox_retention = inbox_retention
        self.clock = clock

    async def purge(self) -> Purged:
        now = self.clock()
        outbox = inbox = 0
        if self.outbox is not None:
            outbox = await self.outbox.purge_published(now - self.outbox_retention)
        if self.inbox is not None:
            inbox = await self.inbox.purge(now - self.inbox_retention)
        if outbox or inbox:
            log.info("old outbox and inbox rows purged", extra={"outbox": outbox, "inbox": inbox})
        return Purged(outbox, inbox)
