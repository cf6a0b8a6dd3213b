"""In-memory implementations of the payments ports (``service/ports.py``) for the service tests
(the SQL store is tested against MariaDB and SQLite by the other test files).

``FakePaymentStore.locked`` behaves as the SQL one: one transaction at a time per payment,
its writes applied together when it ends without an error and dropped otherwise; and
``crash_before_commit`` makes the next one die instead of committing, as payments does when it
is killed between the processor's answer and its commit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from shopkit.errors import NotFound
from shopkit.events import CloudEvent
from shopkit.money import Money
from shopkit.processor import (
    CardToken,
    ChargeResult,
    ProcessorError,
    ProcessorRefused,
    RefundResult,
    SimulatedProcessor,
)
from subgraphs.payments.domain.idempotency import COMPLETED, STARTED, IdempotencyRecord
from subgraphs.payments.domain.model import (
    CLAIM_CHARGING,
    CLAIM_SUCCEEDED,
    OUTCOME_SUCCEEDED,
    ChargeClaim,
    LedgerEntry,
    Payment,
    PendingRefund,
)
from subgraphs.payments.domain.orders import OrderView


class SimulatedCrash(Exception):
    """Payments died here: nothing of the transaction is written."""


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class _Key:
    record: IdempotencyRecord
    locked_until: datetime | None


class FakeIdempotencyStore:
    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], _Key] = {}

    def _by_id(self, record_id: str) -> _Key | None:
        return next((k for k in self.keys.values() if k.record.id == record_id), None)

    async def insert(self, record: IdempotencyRecord, now: datetime, lease_until: datetime) -> bool:
        if (record.caller_id, record.key) in self.keys:
            return False
        self.keys[(record.caller_id, record.key)] = _Key(record, lease_until)
        return True

    async def get(self, caller_id: str, key: str) -> IdempotencyRecord | None:
        found = self.keys.get((caller_id, key))
        return None if found is None else found.record

    async def delete_if_expired(self, record_id: str, now: datetime) -> None:
        self.keys = {k: v for k, v in self.keys.items() if not (
            v.record.id == record_id and v.record.expires_at <= now)}  # fmt: skip

    async def take_over(self, record_id: str, now: datetime, lease_until: datetime) -> bool:
        found = self._by_id(record_id)
        if found is None or found.record.status != STARTED:
            return False
        if found.locked_until is not None and found.locked_until > now:
            return False
        found.locked_until = lease_until
        return True

    async def release(self, record_id: str, now: datetime) -> None:
        found = self._by_id(record_id)
        if found is not None and found.record.status == STARTED:
            found.locked_until = None

    def complete(self, record_id: str, response: str) -> None:
        found = self._by_id(record_id)
        if found is not None and found.record.status == STARTED:
            found.record = replace(found.record, status=COMPLETED, response=response)
            found.locked_until = None

    async def complete_alone(self, record_id: str, response: str, now: datetime) -> None:
        self.complete(record_id, response)

    def attach(self, record_id: str, payment_id: str) -> None:
        found = self._by_id(record_id)
        assert found is not None
        found.record = replace(found.record, payment_id=payment_id)

    def record_of_payment(self, payment_id: str) -> str | None:
        found = next((k for k in self.keys.values() if k.record.payment_id == payment_id), None)
        return None if found is None else found.record.id

    async def cleanup(self, now: datetime) -> int:
        expired = [k for k, v in self.keys.items() if v.record.expires_at <= now]
        for k in expired:
            del self.keys[k]
        return len(expired)


@dataclass
class FakePaymentTx:
    store: FakePaymentStore
    payment: Payment
    writes: list[Callable[[], None]] = field(default_factory=list)
    entries: list[LedgerEntry] = field(default_factory=list)

    async def next_sequence(self) -> int:
        mine = [e for e in self.store.ledger if e.payment_id == self.payment.id]
        return len(mine) + len(self.entries) + 1

    def append(self, entry: LedgerEntry) -> None:
        self.entries.append(entry)
        self.writes.append(lambda: self.store.ledger.append(entry))

    async def save(self, payment: Payment) -> None:
        self.payment = payment
        self.writes.append(lambda: self.store.payments.__setitem__(payment.id, payment))

    async def settle_claim(self, succeeded: bool, now: datetime) -> None:
        if not succeeded:
            await self.release_claim()
            return
        order_id, payment_id = self.payment.order_id, self.payment.id

        def keep() -> None:
            claim = self.store.claims.get(order_id)
            if claim is not None and claim.payment_id == payment_id:
                self.store.claims[order_id] = replace(claim, state=CLAIM_SUCCEEDED)

        self.writes.append(keep)

    async def release_claim(self) -> None:
        order_id, payment_id = self.payment.order_id, self.payment.id

        def free() -> None:
            claim = self.store.claims.get(order_id)
            if claim is not None and claim.payment_id == payment_id:
                del self.store.claims[order_id]

        self.writes.append(free)

    def reserve_refund(self, pending: PendingRefund) -> None:
        self.writes.append(lambda: self.store.reservations.__setitem__(pending.id, pending))

    async def pending_refund(self, refund_id: str) -> PendingRefund | None:
        return self.store.reservations.get(refund_id)

    async def drop_refund(self, refund_id: str) -> None:
        def drop() -> None:
            self.store.reservations.pop(refund_id, None)

        self.writes.append(drop)

    async def publish(self, event: CloudEvent) -> None:
        self.writes.append(lambda: self.store.outbox.append(event))

    async def answer_of(self, record_id: str) -> str | None:
        found = self.store.keys._by_id(record_id)
        return None if found is None else found.record.response

    async def complete_request(self, record_id: str, response: str, now: datetime) -> None:
        self.writes.append(lambda: self.store.keys.complete(record_id, response))

    async def complete_charge_request(self, response: str, now: datetime) -> None:
        payment_id = self.payment.id

        def complete() -> None:
            record_id = self.store.keys.record_of_payment(payment_id)
            if record_id is not None:
                self.store.keys.complete(record_id, response)

        self.writes.append(complete)


class FakePaymentStore:
    def __init__(self, keys: FakeIdempotencyStore) -> None:
        self.keys = keys
        self.payments: dict[str, Payment] = {}
        self.ledger: list[LedgerEntry] = []
        self.claims: dict[str, ChargeClaim] = {}
        self.reservations: dict[str, PendingRefund] = {}
        self.outbox: list[CloudEvent] = []
        self.crash_before_commit = False
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def get(self, payment_id: str) -> Payment | None:
        return self.payments.get(payment_id)

    async def for_orders(self, order_ids: Sequence[str]) -> dict[str, list[Payment]]:
        grouped: dict[str, list[Payment]] = defaultdict(list)
        for payment in sorted(self.payments.values(), key=lambda p: (p.created_at, p.id)):
            if payment.order_id in order_ids:
                grouped[payment.order_id].append(payment)
        return grouped

    async def claim_and_create(
        self, payment: Payment, record_id: str, now: datetime
    ) -> ChargeClaim | None:
        if payment.order_id in self.claims:
            return self.claims[payment.order_id]
        self.claims[payment.order_id] = ChargeClaim(payment.order_id, payment.id, CLAIM_CHARGING)
        self.payments[payment.id] = payment
        self.keys.attach(record_id, payment.id)
        return None

    @contextlib.asynccontextmanager
    async def locked(self, payment_id: str) -> AsyncIterator[FakePaymentTx]:
        async with self._locks[payment_id]:
            if payment_id not in self.payments:
                raise LookupError(payment_id)
            tx = FakePaymentTx(self, self.payments[payment_id])
            yield tx
            if self.crash_before_commit:
                self.crash_before_commit = False
                raise SimulatedCrash("payments died before committing")
            for write in tx.writes:
                write()

    async def unsettled_charges(self, limit: int = 100) -> list[Payment]:
        return [p for p in self.payments.values() if p.outcome == "pending"][:limit]

    async def pending_refunds(self, limit: int = 100) -> list[PendingRefund]:
        return sorted(self.reservations.values(), key=lambda r: r.created_at)[:limit]

    async def pending_refund_of_request(self, request_id: str) -> PendingRefund | None:
        return next((r for r in self.reservations.values() if r.request_id == request_id), None)

    def event_types(self) -> list[str]:
        return [e.type for e in self.outbox]


class FakeCancellationStore:
    def __init__(self, payments: FakePaymentStore) -> None:
        self.payments = payments
        self.cancelled: dict[str, str] = {}

    async def record(self, order_id: str, event_id: str, now: datetime) -> None:
        self.cancelled.setdefault(order_id, event_id)

    async def is_cancelled(self, order_id: str) -> bool:
        return order_id in self.cancelled

    async def still_captured(self, limit: int = 100) -> list[str]:
        return sorted(
            {
                p.order_id
                for p in self.payments.payments.values()
                if p.order_id in self.cancelled
                and p.outcome == OUTCOME_SUCCEEDED
                and p.refunded < p.captured
            }
        )[:limit]


class FakeOrders:
    def __init__(self) -> None:
        self.orders: dict[str, OrderView] = {}

    def add(
        self, order_id: str, customer: str, amount: int, status: str = "PENDING_PAYMENT"
    ) -> None:
        self.orders[order_id] = OrderView(order_id, status, customer, Money(amount, "EUR"))

    def set(self, order_id: str, **changes: Any) -> None:
        self.orders[order_id] = replace(self.orders[order_id], **changes)

    async def get(self, order_id: str) -> OrderView:
        if order_id not in self.orders:
            raise NotFound("No such order.", orderId=order_id)
        return self.orders[order_id]


class FakeAccounts:
    def __init__(self) -> None:
        self.cards: dict[tuple[str, str], CardToken] = {}

    async def payment_source(self, account_id: str, payment_method_id: str) -> CardToken:
        if (account_id, payment_method_id) not in self.cards:
            raise NotFound("No such saved payment method.", paymentMethodId=payment_method_id)
        return self.cards[(account_id, payment_method_id)]


class ScriptedProcessor(SimulatedProcessor):
    """The simulated processor, told to lose answers, lose requests, refuse refunds or be
    unreachable for lookups, and to wait a little before answering."""

    def __init__(self) -> None:
        super().__init__()
        self.delay = 0.0
        self.lose_charge_answers = 0  # the charge is made, its answer lost
        self.lose_charges = 0  # the charge never arrives
        self.lose_refund_answers = 0
        self.lose_refunds = 0  # the refund never arrives
        self.refuse_refunds = False
        self.unreachable = False
        self.on_charge: Callable[[], None] | None = None

    async def charge(
        self, *, source: str, amount: int, currency: str, idempotency_key: str
    ) -> ChargeResult:
        if self.on_charge is not None:
            self.on_charge()
        await asyncio.sleep(self.delay)
        if self.lose_charges:
            self.lose_charges -= 1
            raise ProcessorError("the request never arrived")
        result = await super().charge(
            source=source, amount=amount, currency=currency, idempotency_key=idempotency_key
        )
        if self.lose_charge_answers:
            self.lose_charge_answers -= 1
            raise ProcessorError("the answer was lost")
        return result

    async def refund(self, *, charge_id: str, amount: int, idempotency_key: str) -> RefundResult:
        await asyncio.sleep(self.delay)
        if self.refuse_refunds:
            raise ProcessorRefused("refused")
        if self.lose_refunds:
            self.lose_refunds -= 1
            raise ProcessorError("the request never arrived")
        result = await super().refund(
            charge_id=charge_id, amount=amount, idempotency_key=idempotency_key
        )
        if self.lose_refund_answers:
            self.lose_refund_answers -= 1
            raise ProcessorError("the answer was lost")
        return result

    async def find_charge(self, idempotency_key: str) -> ChargeResult | None:
        if self.unreachable:
            raise ProcessorError("unreachable")
        return await super().find_charge(idempotency_key)

    async def find_refund(self, idempotency_key: str) -> RefundResult | None:
        if self.unreachable:
            raise ProcessorError("unreachable")
        return await super().find_refund(idempotency_key)
