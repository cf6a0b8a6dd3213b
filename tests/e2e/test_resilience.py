"""Crashes and outages on a stack of its own: nothing is lost and nothing happens twice.

* The broker is down while a customer pays: the payment commits with its outbox row, and the
  order still becomes PAID once the broker is back (the outbox catches up).
* The orders service dies between an order's state change and the publishing of its event
  (it runs with its relay off, then is killed): after a restart the event is delivered, and
  its effect (items giving the stock back) happens exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from stack.local import LocalStack
from tests.e2e.client import Gateway, eventually
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, started_stack
from tests.e2e.test_user_flow import (
    CARD_OK,
    availability,
    create_item,
    create_order,
    pay,
    wait_for_status,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def crash_shop(tmp_path_factory: pytest.TempPathFactory, mysql_server: str) -> Iterator[LocalStack]:
    stack = started_stack(tmp_path_factory.mktemp("crash-shop"), mysql_server, "crash")
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def crash_gateway(crash_shop: LocalStack) -> Gateway:
    return Gateway(crash_shop.graphql_url)


# Runs first: it needs no broker restart, and the next test restarts the broker.
async def test_event_pending_when_orders_dies_is_delivered_once_after_restart(
    crash_shop, crash_gateway
):
    gateway = crash_gateway
    admin = await gateway.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    item = await create_item(gateway, admin, stock=6)
    customer = await gateway.register("crash@e2e.test")
    order = await create_order(gateway, customer, item["id"], 2)
    assert await availability(gateway, item["id"]) == 4

    # An orders process whose relay never runs: the state change commits with its event in
    # the outbox, and the process dies before publishing it.
    crash_shop.kill("orders")
    crash_shop.start_subgraph("orders", SHOP_EVENTS_ENABLED="false")
    cancelled = await gateway.data(
        "mutation($id: ID!) { cancelOrder(id: $id) { status } }", {"id": order["id"]}, customer
    )
    assert cancelled["cancelOrder"]["status"] == "CANCELLED"
    crash_shop.kill("orders")
    assert await availability(gateway, item["id"]) == 4

    crash_shop.start_subgraph("orders")

    async def released() -> bool:
        return await availability(gateway, item["id"]) == 6

    await eventually(released, timeout=90)
    await asyncio.sleep(3)
    assert await availability(gateway, item["id"]) == 6  # released once, not twice


async def test_order_becomes_paid_after_the_broker_comes_back(crash_shop, crash_gateway):
    gateway = crash_gateway
    admin = await gateway.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    item = await create_item(gateway, admin, stock=5)
    customer = await gateway.register("outage@e2e.test")
    order = await create_order(gateway, customer, item["id"], 1)

    crash_shop.kill("kafka")
    paid = await pay(gateway, customer, order["id"], CARD_OK)
    assert paid["data"]["submitPayment"]["status"] == "SUCCEEDED", paid
    crash_shop.start_kafka()

    await wait_for_status(gateway, customer, order["id"], "PAID", timeout=90)
