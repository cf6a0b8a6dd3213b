"""``order.payment_refused``: orders did not accept a payment whose amount is no longer the
order's total. Payments refunds all that remains of it once and frees the order, so that the
customer can pay the new total (docs/payments.md)."""

from __future__ import annotations

from shopkit.events import CloudEvent, new_event
from tests.payments.conftest import Harness


def _refused(order_id: str, buyer: str, payment_id: str, charged: int, total: int) -> CloudEvent:
    return new_event(
        "order.payment_refused",
        source="orders",
        subject=order_id,
        data={
            "orderId": order_id,
            "customerId": buyer,
            "paymentId": payment_id,
            "amount": {"amount": charged, "currency": "EUR"},
            "total": {"amount": total, "currency": "EUR"},
            "reason": "The order's total changed while it was being paid.",
        },
    )


async def test_a_refused_payment_is_refunded_once_and_the_new_total_can_be_paid(
    harness: Harness,
) -> None:
    buyer, order_id = harness.new_order(1000)
    first = (await harness.submit(buyer, order_id, "a"))["data"]["submitPayment"]
    harness.services.orders[order_id]["total"]["amount"] = 50_000
    refused = _refused(order_id, buyer, first["id"], 1000, 50_000)
    handle = harness.handler("order.payment_refused")

    for event in (refused, refused, _refused(order_id, buyer, first["id"], 1000, 50_000)):
        await handle(event)  # the same event twice, then a re-emitted one
    second = await harness.submit(buyer, order_id, "b")

    assert harness.processor.refund_calls == 1
    assert second["data"]["submitPayment"]["status"] == "SUCCEEDED"
    assert second["data"]["submitPayment"]["amount"] == {"amount": 50_000, "currency": "EUR"}
    rows = await harness.rows("SELECT amount, captured, refunded FROM payments ORDER BY amount")
    assert [tuple(r) for r in rows] == [(1000, 1000, 1000), (50_000, 50_000, 0)]
    outbox = await harness.rows("SELECT type FROM outbox ORDER BY seq")
    assert [r[0] for r in outbox] == ["payment.succeeded", "payment.refunded", "payment.succeeded"]


async def test_before_the_refusal_the_paid_order_refuses_a_second_payment(
    harness: Harness,
) -> None:
    buyer, order_id = harness.new_order(1000)
    await harness.submit(buyer, order_id, "a")

    again = await harness.submit(buyer, order_id, "b")

    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert harness.processor.charge_calls == 1


async def test_a_refusal_of_an_unknown_payment_changes_nothing(harness: Harness) -> None:
    buyer, order_id = harness.new_order(1000)
    paid = (await harness.submit(buyer, order_id, "a"))["data"]["submitPayment"]
    handle = harness.handler("order.payment_refused")

    await handle(_refused("another-order", buyer, paid["id"], 1000, 2000))
    await handle(_refused(order_id, buyer, "no-such-payment", 1000, 2000))

    assert harness.processor.refund_calls == 0
    claims = await harness.rows("SELECT state FROM order_charge_claims")
    assert [r[0] for r in claims] == ["succeeded"]
