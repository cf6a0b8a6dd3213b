"""The outbox of the orders service, read by the kit's ``OutboxRelay``.

Events are rows of their order's partition (``row_kind = 'event'``, ``published = false``),
written in the same conditional batch as the change. The relay cannot scan every partition,
so each event also has an ``outbox_hints`` row, written just before that batch, in the bucket
of the hour the event was created. ``pending`` reads the hints of the last two hours on each
poll (and of the whole look-back window at start and every minute), loads the events they
name and answers the unpublished ones, oldest first. A hint goes once its event is published,
or when its event never got written (the batch lost its condition or failed): such a hint is
dropped only after a grace period and a SERIAL read, so an in-flight batch is never missed.
An event is marked published with a conditional update, as every row written under LWT.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import acsylla

from shopkit.events import OutboxMessage, topic_for
from subgraphs.orders.store.buckets import hour_bucket, timeuuid_time
from subgraphs.orders.store.session import Statements

STATEMENTS = {
    "hints": "SELECT order_id, event_id FROM {ks}.outbox_hints WHERE bucket = ?",
    "unhint": "DELETE FROM {ks}.outbox_hints WHERE bucket = ? AND order_id = ? AND event_id = ?",
    "event": (
        "SELECT event_type, payload, published FROM {ks}.orders "
        "WHERE order_id = ? AND row_kind = 'event' AND row_id = ?"
    ),
    "publish": (
        "UPDATE {ks}.orders SET published = true "
        "WHERE order_id = ? AND row_kind = 'event' AND row_id = ? IF published = false"
    ),
}


class CqlOutbox:
    def __init__(
        self,
        session: acsylla.Session,
        statements: Statements,
        *,
        lookback_hours: int = 24 * 7,
        full_scan_seconds: float = 60.0,
        grace: timedelta = timedelta(seconds=60),
    ) -> None:
        self.session = session
        self.q = statements
        self.lookback_hours = lookback_hours
        self.full_scan_seconds = full_scan_seconds
        self.grace = grace
        self._last_full_scan = float("-inf")

    @classmethod
    async def open(cls, session: acsylla.Session, keyspace: str, **options: Any) -> CqlOutbox:
        return cls(session, await Statements.prepare(session, keyspace, STATEMENTS), **options)

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
            (timeuuid_time(event_id), order_id, event_id)
            for page in hint_pages
            for row in page
            for order_id, event_id in [
                (str(row.column_value("order_id")), str(row.column_value("event_id")))
            ]
        )
        messages: list[OutboxMessage] = []
        for at, order_id, event_id in hints:
            if len(messages) >= limit:
                break
            row = await self._event(order_id, event_id, serial=False)
            if row is None and datetime.now(UTC) - at > self.grace:
                row = await self._event(order_id, event_id, serial=True)
                if row is None:
                    await self._unhint(order_id, event_id)
                continue
            if row is None:
                continue
            if row["published"]:
                await self._unhint(order_id, event_id)
                continue
            messages.append(
                OutboxMessage(
                    id=f"{order_id}/{event_id}",
                    topic=topic_for(row["event_type"]),
                    key=order_id,
                    value=row["payload"],
                    type=row["event_type"],
                )
            )
        return messages

    async def _event(self, order_id: str, event_id: str, *, serial: bool) -> dict | None:
        options = {"consistency": acsylla.Consistency.SERIAL} if serial else {}
        result = await self.session.execute(self.q("event", [order_id, event_id], **options))
        row = result.first()
        return row.as_dict() if row is not None else None

    async def _unhint(self, order_id: str, event_id: str) -> None:
        bucket = hour_bucket(timeuuid_time(event_id))
        await self.session.execute(self.q("unhint", [bucket, order_id, event_id]))

    async def mark_published(self, ids: list[str]) -> None:
        for message_id in ids:
            order_id, _, event_id = message_id.partition("/")
            await self.session.execute(self.q("publish", [order_id, event_id]))
            await self._unhint(order_id, event_id)
