"""A cancelled order's payment is refunded automatically, exactly once, whichever comes
second: the ``order.cancelled`` event or the end of a charge that raced the cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from subgraphs.payments.domain.idempotency import RequestInProgress
from tests.payments.conftest import Harness, order_cancelled


def _cancellation(harness: Harness, order_id: str, buyer: str) -> Awaitable[None]:
    """One delivery to the app's consumer of a new ``order.cancelled`` event (a new id, as a
    re-emitted event has) for the order, cancelled once paid."""
    return harness.handler("order.cancelled")(order_cancelled(order_id, buyer, "PAID"))


async def test_cancelled_event_refunds_the_paid_order_once(harness: Harness) -> None:
    buyer, order_id = harness.new_order(1500)
    await harness.submit(buyer, order_id, "k")

    for _ in range(3):  # three distinct deliveries (e.g. re-emitted events with new ids)
        await _cancellation(harness, order_id, buyer)

    assert harness.processor.refund_calls == 1
    rows = await harness.rows("SELECT refunded FROM payments")
    assert [r[0] for r in rows] == [1500]


async def test_cancelled_event_for_an_unpaid_order_does_nothing(harness: Harness) -> None:
    buyer, order_id = harness.new_order()

    await _cancellation(harness, order_id, buyer)

    assert harness.processor.refund_calls == 0
    assert await harness.count("idempotency_keys") == 0


async def test_auto_refund_returns_only_what_an_admin_has_not_refunded(harness: Harness) -> None:
    buyer, order_id = harness.new_order(1000)
    payment = (await harness.submit(buyer, order_id, "k"))["data"]["submitPayment"]
    await harness.refund("admin", payment["id"], "r", 250)

    await _cancellation(harness, order_id, buyer)

    rows = await harness.rows("SELECT kind, amount FROM payment_ledger ORDER BY sequence")
    assert [tuple(r) for r in rows] == [("charge", 1000), ("refund", 250), ("refund", 750)]


async def test_charge_landing_on_an_order_cancelled_meanwhile_is_refunded(
    slow_harness: Harness,
) -> None:
    harness = slow_harness
    buyer, order_id = harness.new_order(900)

    async def cancel_while_charging() -> None:
        while not harness.processor.charge_keys:
            await asyncio.sleep(0.01)
        harness.services.set_status(order_id, "CANCELLED")
        await _cancellation(harness, order_id, buyer)  # arrives while the payment is PENDING

    answer, _ = await asyncio.gather(harness.submit(buyer, order_id, "k"), cancel_while_charging())

    assert answer["data"]["submitPayment"]["status"] == "SUCCEEDED"  # the answer to the charge
    assert harness.processor.refund_calls == 1
    rows = await harness.rows("SELECT captured, refunded FROM payments")
    assert [tuple(r) for r in rows] == [(900, 900)]
    await _cancellation(harness, order_id, buyer)  # a late redelivery changes nothing
    assert harness.processor.refund_calls == 1


async def test_cancellation_racing_a_charge_refunds_once_when_the_event_comes_second(
    slow_harness: Harness,
) -> None:
    harness = slow_harness
    buyer, order_id = harness.new_order(900)
    harness.processor.during_charge = lambda: harness.services.set_status(order_id, "CANCELLED")

    outcomes = await asyncio.gather(
        harness.submit(buyer, order_id, "k"),
        *(_cancellation(harness, order_id, buyer) for _ in range(3)),
        return_exceptions=True,
    )
    # a delivery that finds the refund running is told to retry (the consumer redelivers)
    assert all(o is None or isinstance(o, (dict, RequestInProgress)) for o in outcomes), outcomes
    await _cancellation(harness, order_id, buyer)

    assert harness.processor.refund_calls == 1
    rows = await harness.rows("SELECT refunded FROM payments")
    assert [r[0] for r in rows] == [900]
