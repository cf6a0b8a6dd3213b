"""Refunds: full and partial, never more than was captured, and who may ask for them."""

from __future__ import annotations

import asyncio

from tests.payments.conftest import DECLINED_CARD, Harness, customer
from tests.support.answers import error_code

ADMIN = "admin-1"


async def _paid(harness: Harness, amount: int = 1000) -> tuple[str, str, str]:
    buyer = customer()
    order_id = harness.services.add_order(buyer, amount=amount)
    payment = (await harness.submit(buyer, order_id, "pay"))["data"]["submitPayment"]
    return buyer, order_id, payment["id"]


async def test_admin_refunds_in_parts_then_the_rest(harness: Harness) -> None:
    _, _, payment_id = await _paid(harness, 1000)

    first = await harness.refund(ADMIN, payment_id, "r1", 300)
    rest = await harness.refund(ADMIN, payment_id, "r2")

    assert first["data"]["refundPayment"]["status"] == "PARTIALLY_REFUNDED"
    assert first["data"]["refundPayment"]["refundable"] == {"amount": 700}
    final = rest["data"]["refundPayment"]
    assert final["status"] == "REFUNDED"
    assert [e["node"]["amount"]["amount"] for e in final["refunds"]["edges"]] == [300, 700]
    assert harness.processor.refund_calls == 2
    rows = await harness.rows("SELECT kind, amount, sequence FROM payment_ledger ORDER BY sequence")
    assert [tuple(r) for r in rows] == [("charge", 1000, 1), ("refund", 300, 2), ("refund", 700, 3)]


async def test_refund_above_the_capture_in_one_go_is_refused(harness: Harness) -> None:
    _, _, payment_id = await _paid(harness, 1000)

    answer = await harness.refund(ADMIN, payment_id, "r", 1001)

    assert error_code(answer) == "BAD_USER_INPUT"
    assert answer["errors"][0]["extensions"]["refundable"] == 1000
    assert harness.processor.refund_calls == 0
    assert await harness.count("payment_ledger") == 1


async def test_refunds_adding_up_to_more_than_the_capture_are_refused(harness: Harness) -> None:
    _, _, payment_id = await _paid(harness, 1000)
    assert (await harness.refund(ADMIN, payment_id, "r1", 600))["data"]

    answer = await harness.refund(ADMIN, payment_id, "r2", 401)

    assert error_code(answer) == "BAD_USER_INPUT"
    assert harness.processor.refund_calls == 1
    assert await harness.count("payment_ledger") == 2


async def test_refund_of_a_failed_payment_is_refused(harness: Harness) -> None:
    buyer = customer()
    order_id = harness.services.add_order(buyer)
    failed = (await harness.submit(buyer, order_id, "k", card=DECLINED_CARD))["data"]

    answer = await harness.refund(ADMIN, failed["submitPayment"]["id"], "r")

    assert error_code(answer) == "CONFLICT"
    assert harness.processor.refund_calls == 0
    assert await harness.count("payment_ledger") == 0


async def test_non_positive_refund_amount_is_refused(harness: Harness) -> None:
    _, _, payment_id = await _paid(harness)

    answer = await harness.refund(ADMIN, payment_id, "r", 0)

    assert error_code(answer) == "BAD_USER_INPUT"
    assert harness.processor.refund_calls == 0


async def test_owner_may_refund_only_a_cancelled_order(harness: Harness) -> None:
    buyer, order_id, payment_id = await _paid(harness)
    harness.services.set_status(order_id, "PAID")

    refused = await harness.refund(buyer, payment_id, "r1", role="CUSTOMER")
    harness.services.set_status(order_id, "CANCELLED")
    accepted = await harness.refund(buyer, payment_id, "r2", role="CUSTOMER")

    assert error_code(refused) == "FORBIDDEN"
    assert accepted["data"]["refundPayment"]["status"] == "REFUNDED"
    assert harness.processor.refund_calls == 1


async def test_another_customer_cannot_refund(harness: Harness) -> None:
    _, order_id, payment_id = await _paid(harness)
    harness.services.set_status(order_id, "CANCELLED")

    answer = await harness.refund(customer(), payment_id, "r", role="CUSTOMER")

    assert error_code(answer) == "NOT_FOUND"
    assert harness.processor.refund_calls == 0


async def test_concurrent_refunds_never_exceed_the_capture(slow_harness: Harness) -> None:
    harness = slow_harness
    _, _, payment_id = await _paid(harness, 1000)

    answers = await asyncio.gather(
        *(harness.refund(ADMIN, payment_id, f"r{i}", 300) for i in range(8))
    )

    accepted = [a for a in answers if a.get("data")]
    assert len(accepted) == 3  # 3 x 300 fit in 1000, a fourth does not
    assert all(error_code(a) == "BAD_USER_INPUT" for a in answers if not a.get("data"))
    rows = await harness.rows("SELECT captured, refunded FROM payments")
    assert [tuple(r) for r in rows] == [(1000, 900)]
    total = await harness.rows("SELECT SUM(amount) FROM payment_ledger WHERE kind = 'refund'")
    assert total[0][0] == 900
    assert harness.processor.refund_calls == 3


async def test_database_refuses_refunded_above_captured_even_without_the_lock(
    harness: Harness,
) -> None:
    _, _, payment_id = await _paid(harness, 1000)
    import sqlalchemy as sa
    from sqlalchemy.exc import IntegrityError, OperationalError

    async with harness.app.state.engine.begin() as conn:
        try:
            await conn.execute(
                sa.text("UPDATE payments SET refunded = 1001 WHERE id = :id"), {"id": payment_id}
            )
            violated = False
        except (IntegrityError, OperationalError):
            violated = True

    assert violated
    assert (await harness.rows("SELECT refunded FROM payments"))[0][0] == 0
