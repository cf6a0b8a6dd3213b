"""Payments, their ledger, refund reservations and the per-order charge claims.

Every write that moves money is one short transaction that also writes the outbox event and
completes the idempotency record: ``claim_and_create`` opens an attempt, ``locked`` hands out
the payment row locked for writing (``database.lock_for_writing``) to record a charge's
outcome, reserve a refund or record one. No caller talks to the processor inside it.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shopkit.events import CloudEvent
from shopkit.events.store.sql import SqlOutbox
from shopkit.sql import is_unique_violation, row_of
from subgraphs.payments.domain.model import (
    CLAIM_CHARGING,
    CLAIM_SUCCEEDED,
    OUTCOME_PENDING,
    ChargeClaim,
    LedgerEntry,
    Payment,
    PendingRefund,
)
from subgraphs.payments.store.convert import (
    payment_from_row,
    payment_values,
    pending_refund_from_row,
)
from subgraphs.payments.store.database import lock_for_writing
from subgraphs.payments.store.idempotency import SqlIdempotencyStore
from subgraphs.payments.store.tables import (
    OUTBOX,
    ChargeClaimRow,
    LedgerRow,
    PaymentRow,
    RefundReservationRow,
    columns,
)

PAYMENTS = columns(PaymentRow)
LEDGER = columns(LedgerRow)
CLAIMS = columns(ChargeClaimRow)
RESERVATIONS = columns(RefundReservationRow)


class SqlPaymentTx:
    """One transaction holding a payment row locked; writes commit together or not at all."""

    def __init__(self, session: AsyncSession, payment: Payment, outbox: SqlOutbox) -> None:
        self.session = session
        self.payment = payment
        self.outbox = outbox

    async def next_sequence(self) -> int:
        current = await self.session.scalar(
            sa.select(sa.func.max(LEDGER.sequence)).where(LEDGER.payment_id == self.payment.id)
        )
        return int(current or 0) + 1

    async def save(self, payment: Payment) -> None:
        await self.session.execute(
            sa.update(PaymentRow).where(PAYMENTS.id == payment.id).values(**payment_values(payment))
        )
        self.payment = payment

    def append(self, entry: LedgerEntry) -> None:
        self.session.add(row_of(LedgerRow, entry))

    async def settle_claim(self, succeeded: bool, now: datetime) -> None:
        """A captured charge keeps the order's claim for good; a decline frees it."""
        if succeeded:
            await self.session.execute(
                sa.update(ChargeClaimRow)
                .where(self._own_claim())
                .values(state=CLAIM_SUCCEEDED, updated_at=now)
            )
        else:
            await self.release_claim()

    async def release_claim(self) -> None:
        """Frees the order for another attempt, if this payment still holds its claim."""
        await self.session.execute(sa.delete(ChargeClaimRow).where(self._own_claim()))

    def _own_claim(self) -> sa.ColumnElement[bool]:
        return (CLAIMS.order_id == self.payment.order_id) & (CLAIMS.payment_id == self.payment.id)

    def reserve_refund(self, pending: PendingRefund) -> None:
        self.session.add(row_of(RefundReservationRow, pending))

    async def pending_refund(self, refund_id: str) -> PendingRefund | None:
        row = await self.session.get(RefundReservationRow, refund_id)
        return None if row is None else pending_refund_from_row(row)

    async def drop_refund(self, refund_id: str) -> None:
        await self.session.execute(
            sa.delete(RefundReservationRow).where(RESERVATIONS.id == refund_id)
        )

    async def publish(self, event: CloudEvent) -> None:
        """Writes the event (keyed by its subject, the payment's order) in this transaction."""
        await self.outbox.add(self.session, event)

    async def answer_of(self, record_id: str) -> str | None:
        return await SqlIdempotencyStore.answer_of(self.session, record_id)

    async def complete_request(self, record_id: str, response: str, now: datetime) -> None:
        await self.session.flush()
        await SqlIdempotencyStore.complete(self.session, record_id, response, now)

    async def complete_charge_request(self, response: str, now: datetime) -> None:
        await self.session.flush()
        await SqlIdempotencyStore.complete_for_payment(self.session, self.payment.id, response, now)


class SqlPaymentStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.outbox = SqlOutbox(sessions, OUTBOX)

    async def get(self, payment_id: str) -> Payment | None:
        async with self.sessions() as session:
            query = sa.select(PaymentRow).where(PAYMENTS.id == payment_id)
            found = await self._load(session, query)
            return found[0] if found else None

    async def for_orders(self, order_ids: Sequence[str]) -> dict[str, list[Payment]]:
        """Each order's payment attempts, oldest first."""
        async with self.sessions() as session:
            payments = await self._load(
                session,
                sa.select(PaymentRow)
                .where(PAYMENTS.order_id.in_(list(order_ids)))
                .order_by(PAYMENTS.created_at, PAYMENTS.id),
            )
        grouped: dict[str, list[Payment]] = defaultdict(list)
        for payment in payments:
            grouped[payment.order_id].append(payment)
        return grouped

    async def unsettled_charges(self, limit: int = 100) -> list[Payment]:
        """Attempts whose charge outcome is not recorded yet, oldest first."""
        async with self.sessions() as session:
            return await self._load(
                session,
                sa.select(PaymentRow)
                .where(PAYMENTS.outcome == OUTCOME_PENDING)
                .order_by(PAYMENTS.created_at, PAYMENTS.id)
                .limit(limit),
            )

    async def pending_refunds(self, limit: int = 100) -> list[PendingRefund]:
        """Reserved refunds not yet answered, oldest first."""
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    sa.select(RefundReservationRow)
                    .order_by(RESERVATIONS.created_at, RESERVATIONS.id)
                    .limit(limit)
                )
            ).scalars()
            return [pending_refund_from_row(r) for r in rows]

    async def pending_refund_of_request(self, request_id: str) -> PendingRefund | None:
        async with self.sessions() as session:
            row = (
                await session.execute(
                    sa.select(RefundReservationRow).where(RESERVATIONS.request_id == request_id)
                )
            ).scalar_one_or_none()
            return None if row is None else pending_refund_from_row(row)

    async def _load(self, session: AsyncSession, query: sa.Select[Any]) -> list[Payment]:
        rows = list((await session.execute(query)).scalars())
        if not rows:
            return []
        entries = (
            await session.execute(
                sa.select(LedgerRow).where(
                    LEDGER.payment_id.in_([r.id for r in rows]),
                    LEDGER.kind == "refund",
                )
            )
        ).scalars()
        by_payment: dict[str, list[LedgerRow]] = defaultdict(list)
        for entry in entries:
            by_payment[entry.payment_id].append(entry)
        return [payment_from_row(r, by_payment[r.id]) for r in rows]

    async def claim_and_create(
        self, payment: Payment, record_id: str, now: datetime
    ) -> ChargeClaim | None:
        """Claims the order for this attempt and creates the PENDING payment, in one
        transaction. Returns None on success, or the claim that some other attempt holds."""
        try:
            async with self.sessions.begin() as session:
                session.add(
                    ChargeClaimRow(
                        order_id=payment.order_id,
                        payment_id=payment.id,
                        state=CLAIM_CHARGING,
                        created_at=now,
                        updated_at=now,
                    )
                )
                await session.flush()
                session.add(row_of(PaymentRow, payment))
                await SqlIdempotencyStore.attach_payment(session, record_id, payment.id)
            return None
        except IntegrityError as error:
            if not is_unique_violation(error):
                raise
        async with self.sessions() as session:
            row = await session.get(ChargeClaimRow, payment.order_id)
        if row is None:  # the holder was declined meanwhile: the caller may simply retry
            return ChargeClaim(payment.order_id, "", CLAIM_CHARGING)
        return ChargeClaim(row.order_id, row.payment_id, row.state)

    @contextlib.asynccontextmanager
    async def locked(self, payment_id: str) -> AsyncIterator[SqlPaymentTx]:
        async with self.sessions.begin() as session:
            query = await lock_for_writing(
                session, sa.select(PaymentRow).where(PAYMENTS.id == payment_id)
            )
            found = await self._load(session, query)
            if not found:
                raise LookupError(payment_id)
            yield SqlPaymentTx(session, found[0], self.outbox)
