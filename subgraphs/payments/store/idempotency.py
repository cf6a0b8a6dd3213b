"""Idempotency keys in the database.

``insert`` commits the ``started`` row in its own transaction before any work: of concurrent
requests with the same (caller, key) exactly one gets it in, the others hit the UNIQUE
constraint and read the winner's row. A running request holds a lease (``locked_until``); a
request that stopped on a transient error releases it, so a retry with the key can take over.
Completion happens inside the transaction that records the payment (``complete``), which may
be the reconciliation's rather than the request's own: completing an already completed record
changes nothing.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shopkit.sql import is_unique_violation, row_of
from subgraphs.payments.domain.idempotency import COMPLETED, STARTED, IdempotencyRecord
from subgraphs.payments.store.convert import record_from_row
from subgraphs.payments.store.database import retry_on_contention
from subgraphs.payments.store.tables import IdempotencyRow, columns

KEYS = columns(IdempotencyRow)


class SqlIdempotencyStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def insert(self, record: IdempotencyRecord, now: datetime, lease_until: datetime) -> bool:
        """Inserts ``record`` (``started``, with no payment or answer yet) holding the key until
        ``lease_until``. True if this request owns the key now; False if another request has
        it. Concurrent inserts of one key can deadlock on MySQL; the loser's insert is simply
        run again."""
        return await retry_on_contention(
            lambda: self._insert(record, now, lease_until), "idempotency key insert"
        )

    async def _insert(
        self, record: IdempotencyRecord, now: datetime, lease_until: datetime
    ) -> bool:
        try:
            async with self.sessions.begin() as session:
                session.add(
                    row_of(
                        IdempotencyRow,
                        record,
                        idem_key=record.key,
                        locked_until=lease_until,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError as error:
            if is_unique_violation(error):
                return False
            raise
        return True

    async def get(self, caller_id: str, key: str) -> IdempotencyRecord | None:
        async with self.sessions() as session:
            row = (
                await session.execute(
                    sa.select(IdempotencyRow).where(
                        KEYS.caller_id == caller_id, KEYS.idem_key == key
                    )
                )
            ).scalar_one_or_none()
            return record_from_row(row) if row is not None else None

    async def delete_if_expired(self, record_id: str, now: datetime) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                sa.delete(IdempotencyRow).where(KEYS.id == record_id, KEYS.expires_at <= now)
            )

    async def take_over(self, record_id: str, now: datetime, lease_until: datetime) -> bool:
        """Takes an unfinished key whose lease ran out or was released; False if it runs."""
        async with self.sessions.begin() as session:
            result = await session.execute(
                sa.update(IdempotencyRow)
                .where(
                    KEYS.id == record_id,
                    KEYS.status == STARTED,
                    sa.or_(KEYS.locked_until.is_(None), KEYS.locked_until <= now),
                )
                .values(locked_until=lease_until, updated_at=now)
            )
            # An UPDATE's result is a CursorResult, which has rowcount; execute() types it Result.
            return result.rowcount == 1  # type: ignore[attr-defined]

    async def release(self, record_id: str, now: datetime) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                sa.update(IdempotencyRow)
                .where(KEYS.id == record_id, KEYS.status == STARTED)
                .values(locked_until=None, updated_at=now)
            )

    @staticmethod
    async def attach_payment(session: AsyncSession, record_id: str, payment_id: str) -> None:
        await session.execute(
            sa.update(IdempotencyRow).where(KEYS.id == record_id).values(payment_id=payment_id)
        )

    @staticmethod
    async def answer_of(session: AsyncSession, record_id: str) -> str | None:
        return await session.scalar(
            sa.select(KEYS.response).where(KEYS.id == record_id, KEYS.status == COMPLETED)
        )

    @staticmethod
    async def complete(session: AsyncSession, record_id: str, response: str, now: datetime) -> None:
        """Stores the answer of a running request (a completed one keeps its first answer)."""
        await session.execute(
            sa.update(IdempotencyRow)
            .where(KEYS.id == record_id, KEYS.status == STARTED)
            .values(status=COMPLETED, response=response, locked_until=None, updated_at=now)
        )

    @staticmethod
    async def complete_for_payment(
        session: AsyncSession, payment_id: str, response: str, now: datetime
    ) -> None:
        """Stores the answer of the request that created this payment attempt, if it runs."""
        await session.execute(
            sa.update(IdempotencyRow)
            .where(KEYS.payment_id == payment_id, KEYS.status == STARTED)
            .values(status=COMPLETED, response=response, locked_until=None, updated_at=now)
        )

    async def complete_alone(self, record_id: str, response: str, now: datetime) -> None:
        async with self.sessions.begin() as session:
            await self.complete(session, record_id, response, now)

    async def cleanup(self, now: datetime) -> int:
        """Deletes expired keys, except unfinished ones tied to a payment whose outcome is
        still unknown (their retry is how that payment gets settled)."""
        async with self.sessions.begin() as session:
            result = await session.execute(
                sa.delete(IdempotencyRow).where(
                    KEYS.expires_at <= now,
                    sa.or_(KEYS.status == COMPLETED, KEYS.payment_id.is_(None)),
                )
            )
            # A DELETE's result is a CursorResult, which has rowcount; execute() types it Result.
            return int(result.rowcount)  # type: ignore[attr-defined]
