"""The payment service on in-memory fakes of its ports (tests/payments/fakes.py), wired as
payments' app wires it: the ``world`` of every test of this folder, each in milliseconds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from shopkit.auth import Identity
from subgraphs.payments.domain.model import Payment
from subgraphs.payments.service.idempotency import IdempotencyKeys
from subgraphs.payments.service.inputs import CardInput
from subgraphs.payments.service.payments import PaymentService
from tests.payments.fakes import (
    FakeAccounts,
    FakeCancellationStore,
    FakeClock,
    FakeIdempotencyStore,
    FakeOrders,
    FakePaymentStore,
    ScriptedProcessor,
)

GOOD = CardInput("4242424242424242", 12, 2040, "123")
DECLINED = CardInput("4000000000000002", 12, 2040, "123")
ADA = Identity(account_id="ada", role="CUSTOMER")
ADMIN = Identity(account_id="root", role="ADMIN")
GRACE = timedelta(minutes=5)


@dataclass
class World:
    service: PaymentService
    store: FakePaymentStore
    keys: FakeIdempotencyStore
    cancellations: FakeCancellationStore
    orders: FakeOrders
    processor: ScriptedProcessor
    clock: FakeClock

    def order(self, amount: int = 1000, order_id: str = "o1") -> str:
        self.orders.add(order_id, "ada", amount)
        return order_id

    async def pay(self, order_id: str = "o1", key: str = "k", card: CardInput = GOOD) -> Payment:
        return await self.service.pay(ADA, order_id=order_id, idempotency_key=key, card=card)

    async def refund(self, payment_id: str, key: str, amount: int | None = None) -> Payment:
        return await self.service.refund(
            ADMIN, payment_id=payment_id, idempotency_key=key, amount=amount
        )

    def processor_refunded(self, charge_id: str | None) -> int:
        return self.processor.refunded.get(charge_id or "", 0)

    def ledger(self, payment_id: str) -> list[tuple[str, int]]:
        return [(e.kind, e.amount) for e in self.store.ledger if e.payment_id == payment_id]


@pytest.fixture
def world() -> World:
    clock = FakeClock(datetime(2030, 1, 1, tzinfo=UTC))
    keys = FakeIdempotencyStore()
    store = FakePaymentStore(keys)
    cancellations = FakeCancellationStore(store)
    orders = FakeOrders()
    processor = ScriptedProcessor()
    service = PaymentService(
        payments=store,
        cancellations=cancellations,
        keys=IdempotencyKeys(
            keys, secret="s" * 32, ttl=timedelta(hours=24), lease=timedelta(seconds=60), clock=clock
        ),
        processor=processor,
        orders=orders,
        accounts=FakeAccounts(),
        clock=clock,
        unknown_outcome_grace=GRACE,
    )
    return World(service, store, keys, cancellations, orders, processor, clock)
