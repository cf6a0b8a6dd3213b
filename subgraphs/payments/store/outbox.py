"""The outbox (events written in the same transaction as the change they describe) and the
inbox (ids of consumed events), as the kit's ``OutboxStore`` and ``InboxStore``."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shopkit.events import CloudEvent, OutboxMessage
from shopkit.sql import is_unique_violation
from subgraphs.payments.store.tables import InboxRow, OutboxRow, columns

OUTBOX = columns(OutboxRow)


def _now() -> datetime:
    return datetime.now(UTC)


def add_event(session: AsyncSession, event: CloudEvent, key: str) -> None:
    """Adds the event to the caller's transaction; the outbox row id is the event id."""
    session.add(
        OutboxRow(
            id=event.id,
            topic=event.topic,
            msg_key=key,
            type=event.type,
            value=event.to_json(),
            created_at=_now(),
        )
    )


class SqlOutbox:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def pending(self, limit: int) -> list[OutboxMessage]:
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    sa.select(OutboxRow)
                    .where(OutboxRow.published_at.is_(None))  # type: ignore[union-attr]
                    .order_by(OutboxRow.seq)  # type: ignore[arg-type]
                    .limit(limit)
                )
            ).scalars()
            return [
                OutboxMessage(id=r.id, topic=r.topic, key=r.msg_key, value=r.value, type=r.type)
                for r in rows
            ]

    async def mark_published(self, ids: list[str]) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                sa.update(OutboxRow)
                .where(OutboxRow.id.in_(ids))  # type: ignore[attr-defined]
                .values(published_at=_now())
            )


class SqlInbox:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def seen(self, consumer: str, event_id: str) -> bool:
        async with self.sessions() as session:
            row = await session.get(InboxRow, (consumer, event_id))
            return row is not None

    async def record(self, consumer: str, event_id: str) -> None:
        try:
            async with self.sessions.begin() as session:
                session.add(InboxRow(consumer=consumer, event_id=event_id, created_at=_now()))
        except IntegrityError as error:
            if not is_unique_violation(error):
                raise
