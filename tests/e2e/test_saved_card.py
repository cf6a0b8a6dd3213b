"""A saved card is tokenized by accounts and charged by payments at the same card processor
(one SHOP_PROCESSOR setting for both; the stack runs the fake processor over HTTP): the
token accounts saved is one the processor that payments charges knows."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.client import Gateway
from tests.e2e.test_user_flow import (
    CARD_OK,
    admin_token,
    create_item,
    create_order,
    wait_for_status,
)

pytestmark = pytest.mark.e2e


async def test_an_order_is_paid_with_a_card_saved_in_accounts(gateway: Gateway) -> None:
    item = await create_item(gateway, await admin_token(gateway), stock=3, price=2000)
    customer = await gateway.register(f"saved.{uuid.uuid4().hex[:8]}@e2e.test")
    saved = await gateway.data(
        "mutation($i: AddPaymentMethodInput!) { addPaymentMethod(input: $i) { id brand last4 } }",
        {"i": CARD_OK},
        customer,
    )
    order = await create_order(gateway, customer, item["id"], 1)

    paid = await gateway.data(
        "mutation($i: SubmitPaymentInput!) { submitPayment(input: $i) { status method { last4 } } }",
        {"i": {"orderId": order["id"], "idempotencyKey": uuid.uuid4().hex,
               "paymentMethodId": saved["addPaymentMethod"]["id"]}},
        customer,
    )  # fmt: skip

    assert saved["addPaymentMethod"]["last4"] == "4242"
    assert paid["submitPayment"] == {"status": "SUCCEEDED", "method": {"last4": "4242"}}
    await wait_for_status(gateway, customer, order["id"], "PAID")
