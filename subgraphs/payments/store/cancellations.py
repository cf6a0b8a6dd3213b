"""Cancelled orders as the ``order.cancelled`` consumer recorded them (``cancelled_orders``).

The consumer commits the row *before* it looks for a captured payment; a charge commits its
success *before* it looks for the row. Each side reads after its own commit, so whichever comes
second sees the other's row (READ COMMITTED reads the latest committed data per statement).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shopkit.sql import is_unique_violation
from subgraphs.payments.domain.model import OUTCOME_SUCCEEDED
from subgraphs.payments.store.tables import CancelledOrderRow, PaymentRow, columns

CANCELLED_ORDERS = columns(CancelledOrderRow)
PAYMENTS = columns(PaymentRow)


class SqlCancellationStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def record(self, order_id: str, event_id: str, now: datetime) -> None:
        """Commits the cancellation; a repeat (another delivery) changes nothing."""
        try:
            async with self.sessions.begin() as session:
                session.add(CancelledOrderRow(order_id=order_id, event_id=event_id, created_at=now))
        except IntegrityError as error:
            if not is_unique_violation(error):
                raise

    async def is_cancelled(self, order_id: str) -> bool:
        async with self.sessions() as session:
            return await session.get(CancelledOrderRow, order_id) is not None

    async def still_captured(self, limit: int = 100) -> list[str]:
        """Cancelled orders that still hold captured money (for the periodic sweep)."""
        async with self.sessions() as session:
            rows = await session.execute(
                sa.select(CANCELLED_ORDERS.order_id)
                .join(PaymentRow, PAYMENTS.order_id == CANCELLED_ORDERS.order_id)
                .where(
                    (PAYMENTS.outcome == OUTCOME_SUCCEEDED)
                    & (PAYMENTS.refunded < PAYMENTS.captured)
                )
                .distinct()
                .order_by(CANCELLED_ORDERS.order_id)
                .limit(limit)
            )
            return [str(r[0]) for r in rows]
