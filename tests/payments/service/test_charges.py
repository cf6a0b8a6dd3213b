"""Charging an order and paying again after a decline (service/charges.py), on fakes of the
ports: the order's total charged once per key, a repeat replayed, a lost answer settled by a
retry with the same key."""

from __future__ import annotations

import pytest

from shopkit.auth import Identity
from shopkit.errors import Conflict, NotFound, Unavailable
from subgraphs.payments.domain.model import CLAIM_SUCCEEDED, PaymentStatus
from tests.payments.service.conftest import ADA, DECLINED, GOOD, World


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
