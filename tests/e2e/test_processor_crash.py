"""Payments killed (kill -9) between the card processor and its own commit, with the
out-of-process fake processor, whose books outlive the crash. On the shared stack
(``disrupted_shop``: these tests run after every other one), with payments restarted with
this module's settings (``crash_settings``) for its tests and with the stack's own after them,
instead of a stack of its own (starting and stopping one took 40 s or more of this machine).

* The processor charged and payments died before hearing it: after a restart the payment is
  recorded SUCCEEDED and the order becomes PAID; the same key replays it, a new key is told
  the order is paid (not, as before, that another payment is in progress, forever).
* The charge never reached the processor (lost on the way) and payments died: after a restart
  and the grace period the attempt FAILS with nothing charged, and a new key pays the order.
* The processor charged, payments died, and the customer cancelled meanwhile: after a restart
  the charge is recorded and refunded once, and the order ends REFUNDED.

After each, the shop's books (payments, payment_ledger) equal the processor's ledger: all of
them, everything the suite paid on the stack before included.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from stack.local import PAYMENTS_DATABASE, LocalStack
from tests.e2e.client import Gateway, assert_books_reconcile, eventually
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.e2e.test_user_flow import CARD_OK, create_item, create_order, wait_for_status
from tests.support.documents import CANCEL_ORDER, ORDER_REFUNDS

pytestmark = pytest.mark.e2e

GRACE_SECONDS = 8  # > 3 attempts x 2 s processor timeout + 1 s, as the settings require
SUBMIT = """mutation($i: SubmitPaymentInput!) {
  submitPayment(input: $i) { id status failureCode } }"""
CRASH_SETTINGS = {  # payments' settings for this module's tests
    "SHOP_PROCESSOR_TIMEOUT_SECONDS": "2",
    "PAYMENTS_RECONCILE_INTERVAL_SECONDS": "1",
    "PAYMENTS_UNKNOWN_OUTCOME_GRACE_SECONDS": str(GRACE_SECONDS),
}


def _stop_payments(stack: LocalStack) -> None:
    running = stack.processes.pop("payments", None)  # None: a failed test left it killed
    if running is not None:
        running.stop()


@pytest.fixture(scope="module", autouse=True)
def crash_settings(disrupted_shop: LocalStack) -> Iterator[None]:
    """Payments runs with CRASH_SETTINGS during this module's tests (only payments reads
    them), and with the stack's own settings again after them, for the modules that follow."""
    _stop_payments(disrupted_shop)
    disrupted_shop.start_subgraph("payments", **CRASH_SETTINGS)
    yield
    _stop_payments(disrupted_shop)
    disrupted_shop.start_subgraph("payments")


class FakeProcessor:
    """The fake processor's test hooks and its ledger, as the test sees them."""

    def __init__(self, stack: LocalStack) -> None:
        self.url = f"http://127.0.0.1:{stack.ports.processor}"
        self.headers = {"Authorization": f"Bearer {stack.env()['SHOP_PROCESSOR_API_KEY']}"}

    async def hold_charges(self, mode: str) -> None:
        async with httpx.AsyncClient() as client:
            answer = await client.post(f"{self.url}/_hooks/charges", json={"mode": mode})
            answer.raise_for_status()

    async def holding(self) -> int:
        async with httpx.AsyncClient() as client:
            return int((await client.get(f"{self.url}/_hooks/held")).json()["held"])

    async def release(self) -> None:
        await self.hold_charges("normal")
        async with httpx.AsyncClient() as client:
            (await client.post(f"{self.url}/_hooks/release")).raise_for_status()

    async def ledger(self, kind: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        params: dict[str, str] = {"limit": "100"}
        async with httpx.AsyncClient() as client:
            while True:
                page = (
                    await client.get(f"{self.url}/v1/{kind}", params=params, headers=self.headers)
                ).json()
                found += page["data"]
                if not page["has_more"]:
                    return found
                params["starting_after"] = page["data"][-1]["id"]


async def _shop_books(stack: LocalStack) -> tuple[list[Any], list[Any]]:
    url = f"{stack.mysql_server}/{PAYMENTS_DATABASE}{stack.mysql_suffix}"
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            payments = (
                await connection.execute(
                    sa.text(
                        "SELECT id, outcome, captured, refunded, refunding, charge_id FROM payments"
                    )
                )
            ).all()
            ledger = (
                await connection.execute(
                    sa.text("SELECT payment_id, kind, amount, processor_ref FROM payment_ledger")
                )
            ).all()
    finally:
        await engine.dispose()
    return list(payments), list(ledger)


async def assert_books_agree(stack: LocalStack) -> None:
    """Every charge and refund the processor made is in the shop's ledger, with its amount,
    and nothing else is; no payment is left pending; each payment's sums are its ledger's."""
    processor = FakeProcessor(stack)
    charges = {(c["id"], c["amount"]) for c in await processor.ledger("charges")
               if c["status"] == "succeeded"}  # fmt: skip
    refunds = {(r["id"], r["amount"]) for r in await processor.ledger("refunds")}
    payments, ledger = await _shop_books(stack)

    assert {(ref, amount) for _, kind, amount, ref in ledger if kind == "charge"} == charges
    assert {(ref, amount) for _, kind, amount, ref in ledger if kind == "refund"} == refunds
    for payment_id, outcome, captured, refunded, refunding, _ in payments:
        assert outcome != "pending", f"payment {payment_id} left pending"
        mine = [(kind, amount) for pid, kind, amount, _ in ledger if pid == payment_id]
        assert captured == sum(a for k, a in mine if k == "charge")
        assert refunded == sum(a for k, a in mine if k == "refund")
        assert refunding == 0


async def _submit(gateway: Gateway, token: str, order_id: str, key: str) -> dict[str, Any]:
    return await gateway(
        SUBMIT, {"i": {"orderId": order_id, "idempotencyKey": key, "card": CARD_OK}}, token
    )


async def _paid_while_payments_dies(
    stack: LocalStack, gateway: Gateway, mode: str
) -> tuple[str, str, dict[str, Any]]:
    """A new customer's order of one item, paid with key ``first``; once the processor holds
    the charge (``answer_later``: made and written down; ``lose``: not made), kill -9
    payments, then let the processor go on. The customer's token, the order id and the
    answer to the payment."""
    admin = await gateway.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    item = await create_item(gateway, admin, stock=5)
    customer = await gateway.register(f"crash.{uuid.uuid4().hex[:8]}@e2e.test")
    order_id = (await create_order(gateway, customer, item["id"], 1))["id"]
    processor = FakeProcessor(stack)
    await processor.hold_charges(mode)
    paying = asyncio.create_task(_submit(gateway, customer, order_id, "first"))
    await eventually(processor.holding, timeout=20, interval=0.05)
    stack.kill("payments")
    answer = await paying
    await processor.release()
    return customer, order_id, answer


async def _restart_payments(stack: LocalStack) -> None:
    await asyncio.to_thread(stack.start_subgraph, "payments", **CRASH_SETTINGS)


async def test_a_charge_made_while_payments_died_is_recorded_and_the_order_paid(
    disrupted_shop: LocalStack, gateway: Gateway
) -> None:
    charges = len(await FakeProcessor(disrupted_shop).ledger("charges"))  # the suite's so far
    customer, order_id, lost = await _paid_while_payments_dies(
        disrupted_shop, gateway, "answer_later"
    )
    assert lost.get("errors"), lost  # the customer never heard the outcome
    # But was charged, once.
    assert len(await FakeProcessor(disrupted_shop).ledger("charges")) == charges + 1
    await _restart_payments(disrupted_shop)

    await wait_for_status(gateway, customer, order_id, "PAID", timeout=60)
    same_key = await _submit(gateway, customer, order_id, "first")
    new_key = await _submit(gateway, customer, order_id, "second")
    assert same_key["data"]["submitPayment"]["status"] == "SUCCEEDED", same_key
    assert new_key["errors"][0]["extensions"]["code"] == "CONFLICT", new_key
    assert new_key["errors"][0]["extensions"]["orderStatus"] == "PAID", new_key
    await assert_books_agree(disrupted_shop)


async def test_a_charge_lost_on_the_way_fails_after_the_grace_and_a_new_key_pays(
    disrupted_shop: LocalStack, gateway: Gateway
) -> None:
    customer, order_id, _ = await _paid_while_payments_dies(disrupted_shop, gateway, "lose")
    await _restart_payments(disrupted_shop)

    async def attempt_failed() -> dict[str, Any] | None:
        data = await gateway.data(
            "query($id: ID!) { order(id: $id) { payment { status failureCode } } }",
            {"id": order_id},
            customer,
        )
        payment = data["order"]["payment"]
        return payment if payment and payment["status"] == "FAILED" else None

    failed = await eventually(attempt_failed, timeout=GRACE_SECONDS + 30)
    assert failed["failureCode"] == "processing_error"
    paid = await _submit(gateway, customer, order_id, "second")
    assert paid["data"]["submitPayment"]["status"] == "SUCCEEDED", paid
    await wait_for_status(gateway, customer, order_id, "PAID", timeout=60)
    await assert_books_agree(disrupted_shop)


async def test_a_charge_made_while_payments_died_on_an_order_cancelled_meanwhile_is_refunded(
    disrupted_shop: LocalStack, gateway: Gateway
) -> None:
    customer, order_id, _ = await _paid_while_payments_dies(disrupted_shop, gateway, "answer_later")
    cancelled = await gateway.data(CANCEL_ORDER, {"id": order_id}, customer)
    assert cancelled["cancelOrder"]["status"] == "CANCELLED"
    await _restart_payments(disrupted_shop)

    await wait_for_status(gateway, customer, order_id, "REFUNDED", timeout=60)
    data = await gateway.data(
        ORDER_REFUNDS,
        {"id": order_id},
        customer,
    )
    payment = {"status": "REFUNDED", "refunds": {"edges": [{"node": {"amount": {"amount": 1250}}}]}}
    assert data["order"]["payments"] == {"edges": [{"node": payment}]}
    await assert_books_agree(disrupted_shop)


async def test_the_books_reconcile_after_the_crashes(disrupted_shop):
    """Stock, orders, payments and the processor's ledger agree (``make reconcile``)."""
    await assert_books_reconcile(disrupted_shop)
