"""The outbox and the inbox in an SQL database (SQLite or MySQL/MariaDB through SQLAlchemy),
shared by payments and accounts.

Layout (each service creates it with its Alembic migrations; ``outbox_table`` and
``inbox_table`` declare it in the service's metadata for queries):

* ``outbox``: ``seq`` (autoincrement: the order the relay publishes in), ``event_id`` (unique:
  the row's id is the event's), ``type``, ``topic``, ``aggregate_id`` (the Kafka key),
  ``payload`` (the CloudEvent's JSON), ``headers`` (a JSON object of strings; NULL in rows
  written before headers existed, read as none), ``created_at``, ``published_at`` (NULL while
  pending; indexed with ``seq`` for the relay's query and the purge).
* ``inbox``: primary key (``consumer``, ``event_id``), ``created_at`` (indexed for the purge).

``SqlOutbox.add`` writes the row on the caller's session, inside the transaction of the change
it describes: both commit or neither does. The relay and the purge use sessions of their own.
Statements run on the session's connection, so SQLModel and plain SQLAlchemy sessions serve
alike.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shopkit.events.envelope import CloudEvent
from shopkit.events.outbox import OutboxMessage
from shopkit.sql import UTCDateTime, is_unique_violation

OUTBOX = "outbox"
INBOX = "inbox"
PURGE_BATCH = 1000  # rows deleted per transaction, so a large purge never holds long locks


def outbox_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        OUTBOX,
        metadata,
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("topic", sa.String(128), nullable=False),
        sa.Column("aggregate_id", sa.String(128), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("headers", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
        sa.Index("ix_outbox_pending", "published_at", "seq"),
    )


def inbox_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        INBOX,
        metadata,
        sa.Column("consumer", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Index("ix_inbox_created_at", "created_at"),
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _headers_json(headers: Mapping[str, str]) -> str:
    return json.dumps(dict(headers), separators=(",", ":"), sort_keys=True)


def _headers(raw: str | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in json.loads(raw).items()} if raw else {}


async def _execute(session: AsyncSession, statement: sa.Executable) -> sa.CursorResult[Any]:
    connection = await session.connection()
    return await connection.execute(statement)


async def _purge(sessions: async_sessionmaker[Any], table: sa.Table, old: Any) -> int:
    """Deletes the rows of ``table`` that match ``old``, ``PURGE_BATCH`` per transaction;
    answers how many went."""
    key = list(table.primary_key.columns)
    purged = 0
    while True:
        async with sessions.begin() as session:
            found = [
                tuple(row)
                for row in await _execute(session, sa.select(*key).where(old).limit(PURGE_BATCH))
            ]
            if found:
                match = (
                    key[0].in_([k for (k,) in found])
                    if len(key) == 1
                    else sa.tuple_(*key).in_(found)
                )
                await _execute(session, sa.delete(table).where(match))
        purged += len(found)
        if len(found) < PURGE_BATCH:
            return purged


class _SqlEventTable:
    def __init__(self, sessions: async_sessionmaker[Any], table: sa.Table) -> None:
        self.sessions = sessions
        self.table = table
        self.c = table.c


class SqlOutbox(_SqlEventTable):
    async def add(self, session: AsyncSession, event: CloudEvent) -> None:
        """Writes ``event`` in the transaction of ``session`` (the change it describes)."""
        await _execute(
            session,
            sa.insert(self.table).values(
                event_id=event.id,
                type=event.type,
                topic=event.topic,
                aggregate_id=event.subject,
                payload=event.to_json(),
                headers=_headers_json(event.headers),
                created_at=_now(),
            ),
        )

    async def pending(self, limit: int) -> list[OutboxMessage]:
        c = self.c
        async with self.sessions() as session:
            rows = await _execute(
                session,
                sa.select(c.event_id, c.topic, c.aggregate_id, c.payload, c.type, c.headers)
                .where(c.published_at.is_(None))
                .order_by(c.seq)
                .limit(limit),
            )
            return [
                OutboxMessage(
                    id=r.event_id,
                    topic=r.topic,
                    key=r.aggregate_id,
                    value=r.payload,
                    type=r.type,
                    headers=_headers(r.headers),
                )
                for r in rows
            ]

    async def mark_published(self, messages: Sequence[OutboxMessage]) -> None:
        async with self.sessions.begin() as session:
            await _execute(
                session,
                sa.update(self.table)
                .where(self.c.event_id.in_([m.id for m in messages]))
                .values(published_at=_now()),
            )

    async def purge_published(self, before: datetime) -> int:
        # A pending row's published_at is NULL, which is never < before.
        return await _purge(self.sessions, self.table, self.c.published_at < before)


class SqlInbox(_SqlEventTable):
    async def seen(self, consumer: str, event_id: str) -> bool:
        c = self.c
        async with self.sessions() as session:
            found = await _execute(
                session,
                sa.select(c.event_id).where(c.consumer == consumer, c.event_id == event_id),
            )
            return found.first() is not None

    async def record(self, consumer: str, event_id: str) -> None:
        try:
            async with self.sessions.begin() as session:
                await _execute(
                    session,
                    sa.insert(self.table).values(
                        consumer=consumer, event_id=event_id, created_at=_now()
                    ),
                )
        except IntegrityError as error:
            if not is_unique_violation(error):
                raise

    async def purge(self, before: datetime) -> int:
        return await _purge(self.sessions, self.table, self.c.created_at < before)
