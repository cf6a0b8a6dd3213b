"""Crashes and outages on a stack of its own: nothing is lost and nothing happens twice.

* Kafka is stopped while customers pay and started again: the payments commit with their
  outbox rows, and every order becomes PAID once the broker is back, exactly once.
* The orders service dies between an order's state change and the publishing of its event
  (it runs with its relay off, then is killed): after a restart the event is delivered, and
  its effect (items giving the stock back) happens exactly once.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.client import assert_books_reconcile, eventually
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.e2e.test_user_flow import (
    CARD_OK,
    availability,
    create_item,
    create_order,
    pay,
    wait_for_status,
)
from tests.support.documents import CANCEL_ORDER

pytestmark = pytest.mark.e2e


# Runs first: it needs no broker restart, and the next test restarts the broker.
async def test_event_pending_when_orders_dies_is_delivered_once_after_restart(
    disrupted_shop, gateway
):
    admin = await gateway.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    item = await create_item(gateway, admin, stock=6)
    customer = await gateway.register("crash@e2e.test")
    order = await create_order(gateway, customer, item["id"], 2)
    assert await availability(gateway, item["id"]) == 4

    # An orders process whose relay never runs: the state change commits with its event in
    # the outbox, and the process dies before publishing it.
    disrupted_shop.kill("orders")
    disrupted_shop.start_subgraph("orders", SHOP_EVENTS_ENABLED="false")
    cancelled = await gateway.data(CANCEL_ORDER, {"id": order["id"]}, customer)
    assert cancelled["cancelOrder"]["status"] == "CANCELLED"
    disrupted_shop.kill("orders")
    assert await availability(gateway, item["id"]) == 4

    disrupted_shop.start_subgraph("orders")

    async def released() -> bool:
        return await availability(gateway, item["id"]) == 6

    await eventually(released, timeout=90)
    await asyncio.sleep(3)
    assert await availability(gateway, item["id"]) == 6  # released once, not twice


async def test_orders_paid_while_kafka_restarts_become_paid_once(disrupted_shop, gateway):
    """Kafka is stopped in the middle of a burst of payments and started again on the same
    log: every order becomes PAID, each exactly once (one PAID in its history), and the stock
    is committed once. Real Kafka keeps the consumers' committed offsets: nothing is read
    from the start again, nothing is skipped."""
    admin = await gateway.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    item = await create_item(gateway, admin, stock=10)
    customers = [await gateway.register(f"outage{n}@e2e.test") for n in range(4)]
    orders = [await create_order(gateway, c, item["id"], 1) for c in customers]

    async def pay_all() -> list[dict]:
        return list(
            await asyncio.gather(
                *(pay(gateway, c, o["id"], CARD_OK) for c, o in zip(customers, orders, strict=True))
            )
        )

    disrupted_shop.processes["kafka"].stop()  # a clean stop: the broker is simply gone a while
    disrupted_shop.processes.pop("kafka")
    paid = await pay_all()
    assert all(p["data"]["submitPayment"]["status"] == "SUCCEEDED" for p in paid), paid
    disrupted_shop.start_kafka()

    for customer, order in zip(customers, orders, strict=True):
        await wait_for_status(gateway, customer, order["id"], "PAID", timeout=90)
    await asyncio.sleep(3)  # time for a second, wrong application to show
    for customer, order in zip(customers, orders, strict=True):
        data = await gateway.data(
            "query($id: ID!) { order(id: $id) { status history(first: 100) { edges { node { status } } } } }",
            {"id": order["id"]},
            customer,
        )
        statuses = [h["node"]["status"] for h in data["order"]["history"]["edges"]]
        assert data["order"]["status"] == "PAID", data
        assert statuses.count("PAID") == 1, data
    assert await availability(gateway, item["id"]) == 6


async def test_the_books_reconcile_after_the_crashes(disrupted_shop):
    """Stock, orders, payments and the processor's ledger agree (``make reconcile``)."""
    await assert_books_reconcile(disrupted_shop)
