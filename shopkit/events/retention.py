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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shopkit.events.inbox import InboxStore
from shopkit.events.outbox import OutboxStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Purged:
    outbox: int
    inbox: int


async def purge_old_events(
    *,
    outbox: OutboxStore | None,
    inbox: InboxStore | None,
    outbox_retention: timedelta,
    inbox_retention: timedelta,
    now: datetime | None = None,
) -> Purged:
    """One run of the job: what ``outbox`` published and ``inbox`` recorded longer than their
    retention before ``now`` goes."""
    now = now or datetime.now(UTC)
    purged = Purged(
        outbox=await outbox.purge_published(now - outbox_retention) if outbox is not None else 0,
        inbox=await inbox.purge(now - inbox_retention) if inbox is not None else 0,
    )
    if purged.outbox or purged.inbox:
        log.info("old outbox and inbox rows purged", extra=vars(purged))
    return purged
