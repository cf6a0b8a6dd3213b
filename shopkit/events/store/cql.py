"""The outbox and the inbox on Cassandra (acsylla), used by orders.

Cassandra allows a conditional (lightweight-transaction) batch in one partition of one table
only. So an event is not a row of a separate outbox table: it is a clustering row of its
aggregate's own partition in the aggregate's table (``row_kind = 'event'``, ``row_id`` = the
event id, a time-based UUID), written by ``event_row`` into the same conditional batch as the
change, and so written if and only if the change is. The table keeps, beside its own columns::

    <key> <type>, row_kind text, row_id timeuuid,
    event_type text, payload text, headers map<text, text>, published boolean,
    PRIMARY KEY ((<key>), row_kind, row_id)

The relay cannot scan every partition, so each event also has a row in the hints table
(``(bucket int, <key>, event_id timeuuid)``, primary key ``((bucket), <key>, event_id)``),
written by ``hint`` just before the batch, in the bucket of the hour the event was created.
``pending`` reads the hints of the last two hours on each poll (and of the whole look-back
window at start and every minute), loads the events they name and answers the unpublished
ones, oldest first. A hint goes once its event is published, or when its event never got
written (the batch lost its condition or failed): such a hint is dropped only after a grace
period and a SERIAL read, so an in-flight batch is never missed.

An event is marked published with a conditional update, as every row written under LWT, and
rewritten with a TTL of the outbox retention: Cassandra then removes it itself. The event row
is written with UPDATE (no row marker), so once its cells expire the row is gone. The inbox
rows are written with a TTL of the inbox retention. The retention job's purges therefore have
nothing to do here and answer 0.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import acsylla

from shopkit.cql import Statements, hour_bucket, timeuuid_time
from shopkit.events.envelope import CloudEvent, topic_for
from shopkit.events.outbox import OutboxMessage

MAX_TTL_SECONDS = 630_720_000  # Cassandra's limit: 20 years

OUTBOX_STATEMENTS = {
    "hint": "INSERT INTO {ks}.{hints} (bucket, {key}, event_id) VALUES (?, ?, ?)",
    "hints": "SELECT {key}, event_id FROM {ks}.{hints} WHERE bucket = ?",
    "unhint": "DELETE FROM {ks}.{hints} WHERE bucket = ? AND {key} = ? AND event_id = ?",
    "write": (
        "UPDATE {ks}.{table} SET event_type = ?, payload = ?, headers = ?, published = false "
        "WHERE {key} = ? AND row_kind = 'event' AND row_id = ?"
    ),
    "written": (
        "SELECT row_id FROM {ks}.{table} WHERE {key} = ? AND row_kind = 'event' AND row_id = ?"
    ),
    "event": (
        "SELECT event_type, payload, headers, published FROM {ks}.{table} "
        "WHERE {key} = ? AND row_kind = 'event' AND row_id = ?"
    ),
    "publish": (
        "UPDATE {ks}.{table} USING TTL ? "
        "SET published = true, event_type = ?, payload = ?, headers = ? "
        "WHERE {key} = ? AND row_kind = 'event' AND row_id = ? IF published = false"
    ),
}

INBOX_STATEMENTS = {
    "seen": "SELECT event_id FROM {ks}.{table} WHERE consumer = ? AND event_id = ?",
    "record": "INSERT INTO {ks}.{table} (consumer, event_id) VALUES (?, ?) USING TTL ?",
}


def ttl_seconds(retention: timedelta) -> int:
    return max(1, min(MAX_TTL_SECONDS, int(retention.total_seconds())))


@dataclass(eq=False)
class CqlOutbox:
    session: acsylla.Session
    q: Statements
    _: KW_ONLY
    key: str
    retention: timedelta
    lookback_hours: int = 24 * 7
    full_scan_seconds: float = 60.0
    grace: timedelta = timedelta(seconds=60)

    def __post_init__(self) -> None:
        self._last_full_scan = float("-inf")

    @classmethod
    async def open(
        cls,
        session: acsylla.Session,
        keyspace: str,
        *,
        table: str,
        key: str,
        hints: str = "outbox_hints",
        **options: Any,
    ) -> CqlOutbox:
        """The outbox of the events kept in ``keyspace.table``, whose partition key column is
        ``key`` (the aggregate id), with their hints in ``keyspace.hints``."""
        statements = await Statements.prepare(
            session, keyspace, OUTBOX_STATEMENTS, table=table, key=key, hints=hints
        )
        return cls(session, statements, key=key, **options)

    # -- writing, with the change ------------------------------------------------------------

    async def hint(self, event: CloudEvent) -> None:
        """Names ``event`` for the relay; written before the batch that writes the event."""
        bucket = hour_bucket(timeuuid_time(event.id))
        await self.session.execute(self.q("hint", [bucket, event.subject, event.id]))

    def event_row(self, event: CloudEvent) -> acsylla.Statement:
        """The statement that writes ``event`` in its aggregate's partition: one of the
        change's conditional batch."""
        values = [event.type, event.to_json(), dict(event.headers), event.subject, event.id]
        return self.q("write", values)

    async def written(self, event: CloudEvent) -> bool:
        """Whether ``event`` was written, read at SERIAL consistency: any conditional batch
        in flight on its partition is completed first (after a batch timed out)."""
        statement = self.q(
            "written", [event.subject, event.id], consistency=acsylla.Consistency.SERIAL
        )
        return (await self.session.execute(statement)).first() is not None

    async def unhint(self, aggregate_id: str, event_id: str) -> None:
        bucket = hour_bucket(timeuuid_time(event_id))
        await self.session.execute(self.q("unhint", [bucket, aggregate_id, event_id]))

    # -- the relay's side ----------------------------------------------------------------------

    def _buckets(self) -> range:
        now = hour_bucket(datetime.now(UTC))
        if time.monotonic() - self._last_full_scan >= self.full_scan_seconds:
            self._last_full_scan = time.monotonic()
            return range(now - self.lookback_hours, now + 1)
        return range(now - 1, now + 1)

    async def pending(self, limit: int) -> list[OutboxMessage]:
        hint_pages = await asyncio.gather(
            *(self.session.execute(self.q("hints", [b])) for b in self._buckets())
        )
        hints = sorted(
            (timeuuid_time(event_id), aggregate_id, event_id)
            for page in hint_pages
            for row in page
            for aggregate_id, event_id in [
                (str(row.column_value(self.key)), str(row.column_value("event_id")))
            ]
        )
        messages: list[OutboxMessage] = []
        for at, aggregate_id, event_id in hints:
            if len(messages) >= limit:
                break
            row = await self._event(aggregate_id, event_id, serial=False)
            if row is None and datetime.now(UTC) - at > self.grace:
                row = await self._event(aggregate_id, event_id, serial=True)
                if row is None:
                    await self.unhint(aggregate_id, event_id)
                continue
            if row is None:
                continue
            if row["published"]:
                await self.unhint(aggregate_id, event_id)
                continue
            messages.append(
                OutboxMessage(
                    id=event_id,
                    topic=topic_for(row["event_type"]),
                    key=aggregate_id,
                    value=row["payload"],
                    type=row["event_type"],
                    headers=dict(row["headers"] or {}),
                )
            )
        return messages

    async def _event(self, aggregate_id: str, event_id: str, *, serial: bool) -> dict | None:
        options = {"consistency": acsylla.Consistency.SERIAL} if serial else {}
        result = await self.session.execute(self.q("event", [aggregate_id, event_id], **options))
        row = result.first()
        return row.as_dict() if row is not None else None

    async def mark_published(self, messages: Sequence[OutboxMessage]) -> None:
        ttl = ttl_seconds(self.retention)
        for m in messages:
            values = [ttl, m.type, m.value, dict(m.headers), m.key, m.id]
            await self.session.execute(self.q("publish", values))
            await self.unhint(m.key, m.id)

    async def purge_published(self, before: datetime) -> int:
        """Nothing to do: a published event expires by its TTL (the outbox retention)."""
        return 0


class CqlInbox:
    def __init__(
        self, session: acsylla.Session, statements: Statements, *, retention: timedelta
    ) -> None:
        self.session = session
        self.q = statements
        self.retention = retention

    @classmethod
    async def open(
        cls,
        session: acsylla.Session,
        keyspace: str,
        *,
        retention: timedelta,
        table: str = "processed_events",
    ) -> CqlInbox:
        """The inbox ``keyspace.table``: ``consumer text, event_id text``, primary key
        ``((consumer, event_id))``."""
        statements = await Statements.prepare(session, keyspace, INBOX_STATEMENTS, table=table)
        return cls(session, statements, retention=retention)

    async def seen(self, consumer: str, event_id: str) -> bool:
        result = await self.session.execute(self.q("seen", [consumer, event_id]))
        return result.first() is not None

    async def record(self, consumer: str, event_id: str) -> None:
        ttl = ttl_seconds(self.retention)
        await self.session.execute(self.q("record", [consumer, event_id, ttl]))

    async def purge(self, before: datetime) -> int:
        """Nothing to do: a row expires by its TTL (the inbox retention)."""
        return 0
