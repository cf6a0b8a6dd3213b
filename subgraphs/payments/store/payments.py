"""Payments, their ledger and the per-order charge claims.

Every write that moves money is one transaction that also writes the outbox event and
completes the idempotency record: ``claim_and_create`` opens an attempt, ``locked`` hands out
the payment row under ``SELECT ... FOR UPDATE`` to record a charge's outcome or a refund.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shopkit.events import CloudEvent
from shopkit.sql import is_unique_violation
from subgraphs.payments.domain.model import LedgerEntry, Payment
from subgraphs.payments.store.convert import new_payment_row, payment_from_row, payment_values
from subgraphs.payments.store.idempotency import IdempotencyStore
from subgraphs.payments.store.outbox import add_event
from subgraphs.payments.store.tables import ChargeClaimRow, LedgerRow, PaymentRow, columns

P = columns(PaymentRow)
L = columns(LedgerRow)
K = columns(ChargeClaimRow)

CLAIM_CHARGING = "charging"
CLAIM_SUCCEEDED = "succeeded"


@dataclass(frozen=True)
class ChargeClaim:
    order_id: str
    payment_id: str
    state: str


class PaymentTx:
    """One transaction holding a payment row locked; writes commit together or not at all."""

    def __init__(self, session: AsyncSession, payment: Payment) -> None:
        self.session = session
        self.payment = payment

    async def next_sequence(self) -> int:
        current = await self.session.scalar(
            sa.select(sa.func.max(L.sequence)).where(L.payment_id == self.payment.id)
        )
        return int(current or 0) + 1

    async def save(self, payment: Payment) -> None:
        await self.session.execute(
            sa.update(PaymentRow).where(P.id == payment.id).values(**payment_values(payment))
        )
        self.payment = payment

    def append(self, entry: LedgerEntry) -> None:
        self.session.add(
            LedgerRow(
                id=entry.id,
                payment_id=entry.payment_id,
                sequence=entry.sequence,
                kind=entry.kind,
                amount=entry.amount,
                currency=entry.currency,
                processor_ref=entry.processor_ref,
                created_at=entry.created_at,
            )
        )

    async def settle_claim(self, succeeded: bool, now: datetime) -> None:
        """A captured charge keeps the order's claim for good; a decline frees it."""
        where = (K.order_id == self.payment.order_id) & (K.payment_id == self.payment.id)
        if succeeded:
            await self.session.execute(
                sa.update(ChargeClaimRow).where(where).values(state=CLAIM_SUCCEEDED, updated_at=now)
            )
        else:
            await self.session.execute(sa.delete(ChargeClaimRow).where(where))

    def publish(self, event: CloudEvent) -> None:
        add_event(self.session, event, key=self.payment.order_id)

    async def complete_request(self, record_id: str, response: str, now: datetime) -> None:
        await self.session.flush()
        await IdempotencyStore.complete(self.session, record_id, response, now)


class PaymentStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def get(self, payment_id: str) -> Payment | None:
        async with self.sessions() as session:
            query = sa.select(PaymentRow).where(P.id == payment_id)
            found = await self._load(session, query)
            return found[0] if found else None

    async def for_orders(self, order_ids: Sequence[str]) -> dict[str, list[Payment]]:
        """Each order's payment attempts, oldest first."""
        async with self.sessions() as session:
            payments = await self._load(
                session,
                sa.select(PaymentRow)
                .where(P.order_id.in_(list(order_ids)))
                .order_by(P.created_at, P.id),
            )
        grouped: dict[str, list[Payment]] = defaultdict(list)
        for payment in payments:
            grouped[payment.order_id].append(payment)
        return grouped

    async def ledger(self, payment_id: str) -> list[LedgerEntry]:
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    sa.select(LedgerRow).where(L.payment_id == payment_id).order_by(L.sequence)
                )
            ).scalars()
            return [
                LedgerEntry(
                    id=r.id,
                    payment_id=r.payment_id,
                    sequence=r.sequence,
                    kind=r.kind,
                    amount=r.amount,
                    currency=r.currency,
                    processor_ref=r.processor_ref,
                    created_at=r.created_at,
                )
                for r in rows
            ]

    async def _load(self, session: AsyncSession, query: sa.Select) -> list[Payment]:
        rows = list((await session.execute(query)).scalars())
        if not rows:
            return []
        entries = (
            await session.execute(
                sa.select(LedgerRow).where(
                    L.payment_id.in_([r.id for r in rows]),
                    L.kind == "refund",
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
                session.add(new_payment_row(payment))
                await IdempotencyStore.attach_payment(session, record_id, payment.id)
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
    async def locked(self, payment_id: str) -> AsyncIterator[PaymentTx]:
        async with self.sessions.begin() as session:
            found = await self._load(
                session,
                sa.select(PaymentRow).where(P.id == payment_id).with_for_update(),
            )
            if not found:
                raise LookupError(payment_id)
            yield PaymentTx(session, found[0])
