"""Paying an order: the happy path, declines, retries with another method, saved cards."""

from __future__ import annotations

from tests.payments.conftest import (
    DECLINED_CARD,
    GOOD_CARD,
    NO_FUNDS_CARD,
    UPDATE,
    Harness,
    customer,
)
from tests.support.answers import error_code


async def test_submit_charges_exactly_the_order_total(harness: Harness) -> None:
    buyer = customer()
    order_id = harness.services.add_order(buyer, amount=4321)

    answer = await harness.submit(buyer, order_id, "key-1")

    payment = answer["data"]["submitPayment"]
    assert payment["status"] == "SUCCEEDED"
    assert payment["amount"] == {"amount": 4321, "currency": "EUR"}
    assert payment["method"] == {"brand": "visa", "last4": "4242"}
    assert payment["order"] == {"id": order_id}
    assert harness.processor.charge_calls == 1
    ledger = await harness.rows("SELECT kind, amount FROM payment_ledger")
    assert [tuple(r) for r in ledger] == [("charge", 4321)]


async def test_declined_card_records_a_failed_payment_without_moving_money(
    harness: Harness,
) -> None:
    buyer = customer()
    order_id = harness.services.add_order(buyer)

    answer = await harness.submit(buyer, order_id, "k", card=NO_FUNDS_CARD)

    payment = answer["data"]["submitPayment"]
    assert payment["status"] == "FAILED"
    assert payment["failureCode"] == "insufficient_funds"
    assert payment["failureReason"] == "Your card has insufficient funds."
    assert await harness.count("payment_ledger") == 0
    assert await harness.count("order_charge_claims") == 0


async def test_failed_payment_can_be_retried_with_another_card(harness: Harness) -> None:
    buyer = customer()
    order_id = harness.services.add_order(buyer)
    failed = (await harness.submit(buyer, order_id, "first", card=DECLINED_CARD))["data"]
    harness.services.set_status(order_id, "PAYMENT_FAILED")

    answer = await harness.gql(
        UPDATE,
        {"id": failed["submitPayment"]["id"], "input": {"idempotencyKey": "2", "card": GOOD_CARD}},
        as_=buyer,
    )

    retried = answer["data"]["updatePayment"]
    assert retried["status"] == "SUCCEEDED"
    assert retried["id"] != failed["submitPayment"]["id"]
    assert retried["order"] == {"id": order_id}
    listed = await harness.gql(
        "query($o: ID!) { paymentsForOrder(orderId: $o) { edges { node { id status } } } }",
        {"o": order_id},
        as_=buyer,
    )
    assert [e["node"]["status"] for e in listed["data"]["paymentsForOrder"]["edges"]] == [
        "FAILED",
        "SUCCEEDED",
    ]


async def test_retrying_a_payment_that_did_not_fail_is_refused(harness: Harness) -> None:
    buyer = customer()
    order_id = harness.services.add_order(buyer)
    paid = (await harness.submit(buyer, order_id, "first"))["data"]["submitPayment"]

    answer = await harness.gql(
        UPDATE, {"id": paid["id"], "input": {"idempotencyKey": "2", "card": GOOD_CARD}}, as_=buyer
    )

    assert error_code(answer) == "CONFLICT"
    assert harness.processor.charge_calls == 1


async def test_saved_payment_method_is_charged_through_its_processor_token(
    harness: Harness,
) -> None:
    buyer = customer()
    order_id = harness.services.add_order(buyer, amount=1000)
    harness.services.saved_cards[(buyer, "pm-1")] = {
        "token": "tok_sim_ok_saved",
        "brand": "mastercard",
        "last4": "4444",
        "expMonth": 1,
        "expYear": 2041,
    }

    answer = await harness.submit(buyer, order_id, "k", paymentMethodId="pm-1")

    payment = answer["data"]["submitPayment"]
    assert payment["status"] == "SUCCEEDED"
    assert payment["method"] == {"brand": "mastercard", "last4": "4444"}


async def test_someone_elses_saved_payment_method_is_not_found(harness: Harness) -> None:
    buyer = customer()
    order_id = harness.services.add_order(buyer)
    harness.services.saved_cards[("someone-else", "pm-1")] = {
        "token": "tok_sim_ok_x", "brand": "visa", "last4": "1111", "expMonth": 1, "expYear": 2041,
    }  # fmt: skip

    answer = await harness.submit(buyer, order_id, "k", paymentMethodId="pm-1")

    assert error_code(answer) == "NOT_FOUND"
    assert harness.processor.charge_calls == 0
