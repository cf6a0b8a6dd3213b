"""Every bad request gets a clear error and moves no money: the processor is not asked to
charge or refund and no ledger row is written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.payments.conftest import GOOD_CARD, Harness, customer
from tests.support.answers import error_code


async def _assert_no_money_moved(harness: Harness) -> None:
    assert harness.processor.charge_calls == 0
    assert harness.processor.refund_calls == 0
    assert await harness.count("payment_ledger") == 0


@pytest.mark.parametrize(
    ("card", "field"),
    [
        ({**GOOD_CARD, "expMonth": 1, "expYear": 2020}, "expYear"),
        ({**GOOD_CARD, "number": "4242424242424241"}, "number"),
        ({**GOOD_CARD, "cvc": "12a"}, "cvc"),
        ({**GOOD_CARD, "expMonth": 13}, "expMonth"),
    ],
    ids=["expired", "failed-luhn", "non-numeric-cvc", "bad-month"],
)
async def test_invalid_card_is_refused_before_anything_happens(
    harness: Harness, card: dict[str, Any], field: str
) -> None:
    buyer = customer()
    order_id = harness.services.add_order(buyer)

    answer = await harness.submit(buyer, order_id, "k", card=card)

    assert error_code(answer) == "BAD_USER_INPUT"
    assert answer["errors"][0]["extensions"]["field"] == field
    assert harness.services.order_calls == 0
    await _assert_no_money_moved(harness)
    assert await harness.count("payments") == 0


async def test_paying_someone_elses_order_is_not_found(harness: Harness) -> None:
    order_id = harness.services.add_order(customer())

    answer = await harness.submit(customer(), order_id, "k")

    assert error_code(answer) == "NOT_FOUND"
    await _assert_no_money_moved(harness)


@pytest.mark.parametrize("status", ["CANCELLED", "PAID", "SHIPPED", "REFUNDED"])
async def test_paying_an_order_that_does_not_await_payment_is_a_conflict(
    harness: Harness, status: str
) -> None:
    buyer = customer()
    order_id = harness.services.add_order(buyer, status=status)

    answer = await harness.submit(buyer, order_id, "k")

    assert error_code(answer) == "CONFLICT"
    assert answer["errors"][0]["extensions"]["orderStatus"] == status
    await _assert_no_money_moved(harness)


async def test_paying_an_unknown_order_is_not_found(harness: Harness) -> None:
    answer = await harness.submit(customer(), "no-such-order", "k")

    assert error_code(answer) == "NOT_FOUND"
    await _assert_no_money_moved(harness)


async def test_paying_an_already_paid_order_again_with_a_new_key_is_refused(
    harness: Harness,
) -> None:
    buyer = customer()
    order_id = harness.services.add_order(buyer)
    assert (await harness.submit(buyer, order_id, "first"))["data"]["submitPayment"]

    # orders has not heard of the payment yet: the claim on the order still refuses
    answer = await harness.submit(buyer, order_id, "second")

    assert error_code(answer) == "CONFLICT"
    assert "already been paid" in answer["errors"][0]["message"]
    assert harness.processor.charge_calls == 1
    assert await harness.count("payment_ledger") == 1


async def test_card_and_saved_method_together_are_refused(harness: Harness) -> None:
    buyer = customer()
    order_id = harness.services.add_order(buyer)

    answer = await harness.submit(buyer, order_id, "k", card=GOOD_CARD, paymentMethodId="pm")

    assert error_code(answer) == "BAD_USER_INPUT"
    await _assert_no_money_moved(harness)


async def test_over_long_idempotency_key_is_refused(harness: Harness) -> None:
    buyer = customer()
    order_id = harness.services.add_order(buyer)

    answer = await harness.submit(buyer, order_id, "k" * 256)

    assert error_code(answer) == "BAD_USER_INPUT"
    assert answer["errors"][0]["extensions"]["field"] == "idempotencyKey"
    await _assert_no_money_moved(harness)
    assert await harness.count("idempotency_keys") == 0


async def test_a_key_of_exactly_255_characters_is_accepted(harness: Harness) -> None:
    buyer = customer()
    order_id = harness.services.add_order(buyer)

    answer = await harness.submit(buyer, order_id, "k" * 255)

    assert answer["data"]["submitPayment"]["status"] == "SUCCEEDED"


async def test_key_reused_with_other_parameters_is_refused(harness: Harness) -> None:
    buyer = customer()
    first = harness.services.add_order(buyer)
    second = harness.services.add_order(buyer)
    assert (await harness.submit(buyer, first, "same"))["data"]["submitPayment"]

    answer = await harness.submit(buyer, second, "same")

    assert error_code(answer) == "IDEMPOTENCY_KEY_REUSED"
    assert harness.processor.charge_calls == 1
    assert await harness.count("payment_ledger") == 1
    assert await harness.count("payments") == 1


async def test_anonymous_caller_cannot_pay(harness: Harness) -> None:
    order_id = harness.services.add_order(customer())

    answer = await harness.gql(
        "mutation($i: SubmitPaymentInput!) { submitPayment(input: $i) { id } }",
        {"i": {"orderId": order_id, "idempotencyKey": "k", "card": GOOD_CARD}},
    )

    assert error_code(answer) == "UNAUTHENTICATED"
    await _assert_no_money_moved(harness)
