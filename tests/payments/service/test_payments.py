"""The payment use cases on in-memory fakes of their ports (tests/payments/fakes.py): charge,
pay again, refund, automatic refunds, the refused payment and the reconciliation, with no
engine, each in milliseconds. The SQL store's part is proven by the other files here."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from shopkit.auth import Identity
from shopkit.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    Unauthenticated,
    Unavailable,
)
from shopkit.events.schemas import producer_schemas
from shopkit.money import Money
from subgraphs.payments.domain.idempotency import RetryableConflict
from subgraphs.payments.domain.model import (
    CLAIM_SUCCEEDED,
    Payment,
    PaymentStatus,
    PendingRefund,
)
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
    SimulatedCrash,
)

GOOD = CardInput("4242424242424242", 12, 2040, "123")
DECLINED = CardInput("4000000000000002", 12, 2040, "123")
ADA = Identity(account_id="ada", role="CUSTOMER")
ADMIN = Identity(account_id="root", role="ADMIN")
GRACE = timedelta(minutes=5)
SCHEMAS = producer_schemas("payments")


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


# -- who may call what ------------------------------------------------------------------------


async def test_the_service_decides_who_may_pay_refund_and_read(world: World) -> None:
    """Paying and refunding need a logged-in account (a service credential alone is none),
    reading needs an account or a service; checked before any input or key is looked at."""
    world.order()
    paid = await world.pay()
    for caller in (Identity(), Identity(service="orders")):
        with pytest.raises(Unauthenticated):
            await world.service.pay(caller, order_id="o1", idempotency_key="", card=None)
        with pytest.raises(Unauthenticated):
            await world.service.pay_again(caller, payment_id=paid.id, idempotency_key="k2")
        with pytest.raises(Unauthenticated):
            await world.service.refund(caller, payment_id=paid.id, idempotency_key="r", amount=0)
    with pytest.raises(Unauthenticated):
        await world.service.get(Identity(), paid.id)
    with pytest.raises(Unauthenticated):
        await world.service.for_orders(Identity(), ["o1"])
    assert (await world.service.get(Identity(service="orders"), paid.id)).id == paid.id
    eve = Identity(account_id="eve", role="CUSTOMER")
    with pytest.raises(NotFound):
        await world.service.get(eve, paid.id)
    assert (await world.service.for_orders(eve, ["o1"])) == {"o1": []}
    assert await world.service.find(eve, paid.id) is None
    assert world.processor_refunded(paid.charge_id) == 0
    assert [p.id for p in world.store.payments.values()] == [paid.id]


# -- charge and pay again -------------------------------------------------------------------


async def test_pay_charges_the_orders_total_once_and_a_repeat_replays_it(world: World) -> None:
    world.order(amount=4321)

    paid = await world.pay()
    again = await world.pay()

    assert paid.status is PaymentStatus.SUCCEEDED
    assert paid.amount == 4321
    assert again.id == paid.id
    assert world.processor.charge_calls == 1
    assert world.ledger(paid.id) == [("charge", 4321)]
    assert world.store.claims["o1"].state == CLAIM_SUCCEEDED
    [event] = world.store.outbox
    assert event.type == "payment.succeeded"
    assert (event.data["paymentId"], event.data["amount"]) == (
        paid.id,
        {"amount": 4321, "currency": "EUR"},
    )


async def test_a_paid_order_refuses_a_charge_with_another_key(world: World) -> None:
    world.order()
    await world.pay(key="a")

    with pytest.raises(Conflict, match="already been paid"):
        await world.pay(key="b")

    assert world.processor.charge_calls == 1


async def test_a_decline_frees_the_order_and_paying_again_with_another_card_succeeds(
    world: World,
) -> None:
    world.order()
    failed = await world.pay(card=DECLINED)
    world.orders.set("o1", status="PAYMENT_FAILED")

    again = await world.service.pay_again(
        ADA, payment_id=failed.id, idempotency_key="k2", card=GOOD
    )

    assert failed.status is PaymentStatus.FAILED
    assert failed.failure_code == "card_declined"
    assert again.status is PaymentStatus.SUCCEEDED
    assert again.id != failed.id
    assert world.store.event_types() == ["payment.failed", "payment.succeeded"]


async def test_paying_again_is_only_for_a_failed_payment_of_ones_own(world: World) -> None:
    world.order()
    paid = await world.pay()

    with pytest.raises(Conflict, match="Only a failed payment"):
        await world.service.pay_again(ADA, payment_id=paid.id, idempotency_key="k2", card=GOOD)
    with pytest.raises(NotFound):
        await world.service.pay_again(
            Identity(account_id="eve", role="CUSTOMER"),
            payment_id=paid.id,
            idempotency_key="k3",
            card=GOOD,
        )
    assert world.processor.charge_calls == 1


async def test_a_lost_charge_answer_is_settled_by_a_retry_with_the_same_key(world: World) -> None:
    world.order()
    world.processor.lose_charge_answers = 1

    with pytest.raises(Unavailable):
        await world.pay()
    retried = await world.pay()

    assert retried.status is PaymentStatus.SUCCEEDED
    assert world.processor.charge_calls == 1  # asked twice with one processor key
    assert len(world.store.ledger) == 1


# -- refunds ----------------------------------------------------------------------------------


async def test_refunds_in_parts_never_above_the_capture(world: World) -> None:
    world.order()
    paid = await world.pay()

    first = await world.refund(paid.id, "r1", 300)
    rest = await world.refund(paid.id, "r2")
    with pytest.raises(Conflict):
        await world.refund(paid.id, "r3", 1)

    assert first.status is PaymentStatus.PARTIALLY_REFUNDED
    assert first.refundable == 700
    assert rest.status is PaymentStatus.REFUNDED
    assert rest.refunded == 1000
    assert world.ledger(paid.id) == [("charge", 1000), ("refund", 300), ("refund", 700)]
    assert world.processor_refunded(paid.charge_id) == 1000
    assert world.store.reservations == {}


async def test_racing_refunds_reserve_before_the_processor_is_asked(world: World) -> None:
    world.order()
    paid = await world.pay()
    world.processor.delay = 0.02

    outcomes = await asyncio.gather(
        *(world.refund(paid.id, f"r{i}", 400) for i in range(3)), return_exceptions=True
    )

    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == 1
    assert isinstance(refused[0], InvalidInput)
    assert refused[0].details["refundable"] == 200
    assert world.processor_refunded(paid.charge_id) == 800
    assert world.store.payments[paid.id].refunded == 800
    assert world.store.payments[paid.id].refunding == 0


async def test_a_refund_the_processor_refuses_gives_its_reservation_back(world: World) -> None:
    world.order()
    paid = await world.pay()
    world.processor.refuse_refunds = True

    with pytest.raises(Conflict, match="refused the refund"):
        await world.refund(paid.id, "r", 400)

    after = world.store.payments[paid.id]
    assert (after.refunded, after.refunding, after.refundable) == (0, 0, 1000)
    assert world.store.reservations == {}


async def test_a_lost_refund_answer_is_settled_by_a_retry_with_the_same_key(world: World) -> None:
    world.order()
    paid = await world.pay()
    world.processor.lose_refund_answers = 1

    with pytest.raises(Unavailable):
        await world.refund(paid.id, "r", 400)
    assert world.store.payments[paid.id].refundable == 600  # reserved while unknown
    retried = await world.refund(paid.id, "r", 400)

    assert retried.refunded == 400
    assert retried.refunding == 0
    assert world.processor.refund_calls == 1
    assert world.ledger(paid.id) == [("charge", 1000), ("refund", 400)]


# -- automatic refunds ---------------------------------------------------------------------


async def test_a_cancelled_orders_payment_is_refunded_once(world: World) -> None:
    world.order()
    paid = await world.pay()

    for event_id in ("e1", "e2", "e1"):
        await world.service.order_cancelled("o1", event_id)

    assert world.processor.refund_calls == 1
    assert world.store.payments[paid.id].status is PaymentStatus.REFUNDED


async def test_a_charge_landing_on_an_order_cancelled_meanwhile_is_refunded(world: World) -> None:
    world.order()
    world.processor.on_charge = lambda: world.orders.set("o1", status="CANCELLED")

    paid = await world.pay()

    assert paid.status is PaymentStatus.SUCCEEDED  # the answer to the charge
    assert world.store.payments[paid.id].status is PaymentStatus.REFUNDED
    assert world.processor.refund_calls == 1


async def test_a_refused_payment_is_refunded_once_and_the_order_may_be_paid_again(
    world: World,
) -> None:
    world.order(amount=1000)
    refused = await world.pay(key="a")
    world.orders.set("o1", total=Money(5000, "EUR"))  # the order changed while it was being paid

    for _ in range(2):  # a redelivery changes nothing
        await world.service.payment_refused("o1", refused.id)
    paid = await world.pay(key="b")

    assert world.store.payments[refused.id].status is PaymentStatus.REFUNDED
    assert world.processor_refunded(refused.charge_id) == 1000
    assert world.processor.refund_calls == 1
    assert paid.status is PaymentStatus.SUCCEEDED
    assert paid.amount == 5000
    assert world.store.claims["o1"].payment_id == paid.id


async def test_a_refused_payment_already_refunded_only_frees_the_order(world: World) -> None:
    world.order()
    refused = await world.pay(key="a")
    await world.refund(refused.id, "admin")

    await world.service.payment_refused("o1", refused.id)

    assert "o1" not in world.store.claims
    assert world.processor.refund_calls == 1


async def test_a_refusal_naming_another_orders_payment_changes_nothing(world: World) -> None:
    world.order()
    paid = await world.pay()

    assert await world.service.payment_refused("another-order", paid.id) is None
    assert world.store.claims["o1"].payment_id == paid.id
    assert world.processor.refund_calls == 0


# -- reconciliation ----------------------------------------------------------------------------


async def test_a_charge_made_just_before_a_crash_is_recorded_by_the_reconciliation(
    world: World,
) -> None:
    world.order()
    world.store.crash_before_commit = True
    with pytest.raises(SimulatedCrash):
        await world.pay(key="a")
    [pending] = world.store.payments.values()
    with pytest.raises(RetryableConflict, match="in progress"):
        await world.pay(key="b")

    done = await world.service.reconcile()

    assert (done.charges, done.left_open) == (1, 0)
    recorded = world.store.payments[pending.id]
    assert recorded.status is PaymentStatus.SUCCEEDED
    assert recorded.captured == 1000
    assert world.store.claims["o1"].state == CLAIM_SUCCEEDED
    assert world.store.event_types() == ["payment.succeeded"]
    assert (await world.pay(key="a")).id == pending.id  # the key's answer is the payment
    assert world.processor.charge_calls == 1


async def test_a_charge_never_received_fails_only_after_the_grace_then_a_new_key_pays(
    world: World,
) -> None:
    world.order()
    world.processor.lose_charges = 1
    with pytest.raises(Unavailable):
        await world.pay(key="a")

    early = await world.service.reconcile()
    world.clock.now += GRACE + timedelta(seconds=1)
    late = await world.service.reconcile()
    paid = await world.pay(key="b")

    assert (early.charges, early.left_open) == (0, 1)
    assert late.charges == 1
    [failed] = [p for p in world.store.payments.values() if p.id != paid.id]
    assert failed.status is PaymentStatus.FAILED
    assert failed.failure_code == "processing_error"
    assert paid.status is PaymentStatus.SUCCEEDED
    assert world.store.event_types() == ["payment.failed", "payment.succeeded"]


async def test_a_declined_charge_found_by_the_reconciliation_frees_the_order(
    world: World,
) -> None:
    world.order()
    world.store.crash_before_commit = True
    with pytest.raises(SimulatedCrash):
        await world.pay(card=DECLINED)

    await world.service.reconcile()

    [payment] = world.store.payments.values()
    assert payment.status is PaymentStatus.FAILED
    assert payment.failure_code == "card_declined"
    assert "o1" not in world.store.claims


async def test_a_refund_whose_answer_was_lost_is_recorded_by_the_reconciliation(
    world: World,
) -> None:
    world.order()
    paid = await world.pay()
    world.processor.lose_refund_answers = 1
    with pytest.raises(Unavailable):
        await world.refund(paid.id, "r", 250)

    done = await world.service.reconcile()

    assert done.refunds == 1
    after = world.store.payments[paid.id]
    assert (after.refunded, after.refunding) == (250, 0)
    assert world.processor.refund_calls == 1
    assert (await world.refund(paid.id, "r", 250)).refunded == 250  # replayed, not made again


async def test_a_retry_racing_the_reconciliation_of_its_refund_does_not_refund_twice(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.order()
    paid = await world.pay()
    world.processor.lose_refund_answers = 1
    with pytest.raises(Unavailable):
        await world.refund(paid.id, "r", 250)
    looked_up = world.store.pending_refund_of_request

    async def settled_right_after_the_lookup(request_id: str) -> PendingRefund | None:
        assert await looked_up(request_id) is not None  # still pending when it looked...
        await world.service.reconcile()  # ...and recorded by the reconciliation right after
        return None  # as a lookup a moment later would have found

    monkeypatch.setattr(world.store, "pending_refund_of_request", settled_right_after_the_lookup)
    world.clock.now += timedelta(minutes=2)  # the lost request's key lease has run out

    retried = await world.refund(paid.id, "r", 250)

    assert retried.refunded == 250
    assert world.processor_refunded(paid.charge_id) == 250
    assert world.processor.refund_calls == 1


async def test_a_reserved_refund_the_processor_never_received_is_sent_after_the_grace(
    world: World,
) -> None:
    world.order()
    paid = await world.pay()
    world.processor.lose_refunds = 1
    with pytest.raises(Unavailable):
        await world.refund(paid.id, "r", 250)

    early = await world.service.reconcile()
    world.clock.now += GRACE + timedelta(seconds=1)
    late = await world.service.reconcile()

    assert (early.refunds, early.left_open) == (0, 1)
    assert late.refunds == 1
    assert world.processor_refunded(paid.charge_id) == 250
    assert world.store.payments[paid.id].refunded == 250


async def test_nothing_is_settled_while_the_processor_cannot_be_asked(world: World) -> None:
    world.order()
    world.processor.lose_charge_answers = 1
    with pytest.raises(Unavailable):
        await world.pay()
    world.processor.unreachable = True
    world.clock.now += GRACE * 10

    done = await world.service.reconcile()

    assert (done.charges, done.left_open) == (0, 1)
    [payment] = world.store.payments.values()
    assert payment.status is PaymentStatus.PENDING
