"""The event outbox (``shopkit.events.OutboxStore``): rows written with each change, read
oldest first by the relay and marked published."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shopkit.events import OutboxMessage
from subgraphs.accounts.store.tables import OutboxRow


class SqlOutboxStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def pending(self, limit: int) -> list[OutboxMessage]:
        async with self.sessions() as session:
            rows = await session.exec(
                select(OutboxRow)
                .where(col(OutboxRow.published_at).is_(None))
                .order_by(col(OutboxRow.seq))
                .limit(limit)
            )
            return [
                OutboxMessage(id=r.event_id, topic=r.topic, key=r.key, value=r.payload, type=r.type)
                for r in rows
            ]

    async def mark_published(self, ids: list[str]) -> None:
        async with self.sessions() as session:
            await session.exec(
                update(OutboxRow)
                .where(col(OutboxRow.event_id).in_(ids))
                .values(published_at=datetime.now(UTC))
            )
            await session.commit()
