"""An engine down for about 30 seconds during a checkout burst, on a stack of its own (Apache
Cassandra, Apache Kafka, SecantusDB, MariaDB): first Cassandra, the orders service's engine
(killed, left down 10 s, then the 25 s or so it takes to start again), then the
MongoDB-protocol server, the items service's (killed, restarted 30 s later). Customers pay and
cancel while it is down, and again once it is back. Afterwards the books agree:

* every order whose payment succeeded is PAID (REFUNDED if it was cancelled after paying);
* every reservation matches its order: held while the order awaits payment, committed once
  it is paid, released when it was cancelled unpaid;
* for every item, initial stock = available + held + sold.

What must survive each outage are the events consumed during it: ``payment.succeeded`` by
orders while Cassandra is down, ``order.paid`` and ``order.cancelled`` by items while MongoDB
is down. Paying and cancelling need no MongoDB, so the second burst runs during its outage.
Paying needs orders (it reads the order), so for the first the customers pay just before
Cassandra stops, with payments' relay off, and payments restarts with its relay on once
Cassandra is down: their events reach orders during the outage, not in the milliseconds
before it.
"""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from bson import ObjectId
from motor.motor_asyncio import AsyncIOMotorClient
from prometheus_client.parser import text_string_to_metric_families

from stack.local import LocalStack
from tests.e2e.client import Gateway, assert_books_reconcile, eventually
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.e2e.test_private_files import rights_too_wide
from tests.e2e.test_user_flow import CARD_OK, create_item, create_order, pay
from tests.support.documents import CANCEL_ORDER, ORDER_STATUS

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

CUSTOMERS = 12
STOCK = 40
OUTAGE_SECONDS = 30.0  # MongoDB: down 30 s (it answers again within a second or two)
CASSANDRA_DOWN_SECONDS = 10.0  # then about 25 s to start again: an outage of about 35 s
SETTLE_SECONDS = 120.0


@dataclass
class Purchase:
    token: str
    order_id: str
    item_id: str
    quantity: int


async def checkout_setup(gateway: Gateway, tag: str) -> tuple[dict[str, int], list[Purchase]]:
    """Two items of STOCK units, and CUSTOMERS customers with one order each."""
    admin = await gateway.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    items = [(await create_item(gateway, admin, stock=STOCK))["id"] for _ in range(2)]
    tokens = await asyncio.gather(
        *(gateway.register(f"{tag}.{n}.{uuid.uuid4().hex[:6]}@e2e.test") for n in range(CUSTOMERS))
    )
    purchases = []
    for n, token in enumerate(tokens):
        item_id, quantity = items[n % 2], 1 + n % 3
        order = await create_order(gateway, token, item_id, quantity)
        purchases.append(Purchase(token, order["id"], item_id, quantity))
    return dict.fromkeys(items, STOCK), purchases


async def paid(gateway: Gateway, purchase: Purchase) -> bool:
    answer = await pay(gateway, purchase.token, purchase.order_id, CARD_OK)
    return (answer.get("data") or {}).get("submitPayment", {}).get("status") == "SUCCEEDED"


async def cancelled(gateway: Gateway, purchase: Purchase) -> bool:
    answer = await gateway(
        CANCEL_ORDER,
        {"id": purchase.order_id},
        purchase.token,
    )
    return (answer.get("data") or {}).get("cancelOrder", {}).get("status") == "CANCELLED"


async def until_done(step: Callable[[], Awaitable[bool]], timeout: float = 90) -> None:
    """A customer trying again (with a new idempotency key each time) until it works."""
    deadline = time.monotonic() + timeout
    while not await step():
        assert time.monotonic() < deadline, "the shop never took the request after the outage"
        await asyncio.sleep(1.0)


async def during(seconds: float, *bursts: Awaitable[Any]) -> list[Any]:
    """Runs the bursts while an engine is down and waits out the rest of the outage."""
    started = time.monotonic()
    results = await asyncio.gather(*bursts, return_exceptions=True)
    await asyncio.sleep(max(0.0, seconds - (time.monotonic() - started)))
    return list(results)


async def order_states(gateway: Gateway, purchases: list[Purchase]) -> list[tuple[str, str]]:
    """(order status, latest payment status or "") per purchase, as its customer sees them."""
    states = []
    for p in purchases:
        data = await gateway.data(
            "query($id: ID!) { order(id: $id) { status payment { status } } }",
            {"id": p.order_id},
            p.token,
        )
        payment = data["order"]["payment"]
        states.append((data["order"]["status"], payment["status"] if payment else ""))
    return states


async def stock_of(shop: LocalStack, initial: dict[str, int]) -> dict[str, Any]:
    """Each item's counters and its reservations, read from the items database itself."""
    client: AsyncIOMotorClient = AsyncIOMotorClient(
        f"mongodb://127.0.0.1:{shop.ports.mongo}/?directConnection=true"
    )
    try:
        db = client["shop_items"]
        items = {
            str(doc["_id"]): doc
            async for doc in db.items.find({"_id": {"$in": [ObjectId(i) for i in initial]}})
        }
        reservations = {doc["_id"]: doc async for doc in db.reservations.find({})}
    finally:
        client.close()
    return {"items": items, "reservations": reservations}


async def flush_to_disk(shop: LocalStack) -> None:
    client: AsyncIOMotorClient = AsyncIOMotorClient(
        f"mongodb://127.0.0.1:{shop.ports.mongo}/?directConnection=true"
    )
    try:
        await client.admin.command("fsync")
    finally:
        client.close()


async def books_agree(
    shop: LocalStack, gateway: Gateway, initial: dict[str, int], purchases: list[Purchase]
) -> list[str]:
    """Every discrepancy between the orders, the payments and the stock (none: [])."""
    wrong = []
    states = await order_states(gateway, purchases)
    stock = await stock_of(shop, initial)
    expected_reservation = {
        "PENDING_PAYMENT": "HELD",
        "PAID": "COMMITTED",
        "CANCELLED": "RELEASED",
        "REFUNDED": "COMMITTED",  # paid, then cancelled: sold, and the money given back
    }
    held: Counter[str] = Counter()
    for p, (status, payment) in zip(purchases, states, strict=True):
        if payment == "SUCCEEDED" and status != "PAID":
            wrong.append(f"order {p.order_id} is {status} with a successful payment")
        if status == "REFUNDED" and payment != "REFUNDED":
            wrong.append(f"order {p.order_id} is REFUNDED, its payment {payment}")
        reservation = stock["reservations"].get(p.order_id)
        found = reservation["status"] if reservation else None
        if found != expected_reservation.get(status):
            wrong.append(f"order {p.order_id} is {status}, its reservation {found}")
        if status == "PENDING_PAYMENT":
            held[p.item_id] += p.quantity
    sold: Counter[str] = Counter()
    for reservation in stock["reservations"].values():
        if reservation["status"] == "COMMITTED":
            for line in reservation["lines"]:
                sold[line["item_id"]] += line["quantity"]
    for item_id, initial_stock in initial.items():
        doc = stock["items"][item_id]
        if doc["available"] + doc["reserved"] + sold[item_id] != initial_stock:
            wrong.append(
                f"item {item_id}: {doc['available']} available + {doc['reserved']} held + "
                f"{sold[item_id]} sold != {initial_stock}"
            )
        if doc["reserved"] != held[item_id]:
            wrong.append(f"item {item_id}: {doc['reserved']} held for {held[item_id]} unpaid")
    return wrong


async def consumer_metrics(shop: LocalStack, service: str) -> dict[str, float]:
    """The service's consumer counters from its /metrics, summed by metric name and cause."""
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"http://127.0.0.1:{getattr(shop.ports, service)}/metrics")).text
    totals: defaultdict[str, float] = defaultdict(float)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in ("events_parked_total", "events_retrying", "event_retries_total"):
                cause = sample.labels.get("cause", "")
                totals[f"{sample.name}{{{cause}}}" if cause else sample.name] += sample.value
    return dict(totals)


def assert_retried_and_nothing_parked(metrics: dict[str, float]) -> None:
    """The outage was met by the consumer (it retried while the engine was unavailable), and
    it gave up on nothing."""
    assert metrics.get("event_retries_total{unavailable}", 0) > 0, metrics
    assert metrics.get("events_parked_total", 0) == 0, metrics
    assert metrics.get("events_retrying{unavailable}", 0) == 0, metrics
    assert metrics.get("events_retrying{error}", 0) == 0, metrics


async def settled(
    shop: LocalStack, gateway: Gateway, initial: dict[str, int], purchases: list[Purchase]
) -> None:
    async def agree() -> bool:
        return not await books_agree(shop, gateway, initial, purchases)

    try:
        await eventually(agree, timeout=SETTLE_SECONDS, interval=2.0)
    except AssertionError as err:
        wrong = await books_agree(shop, gateway, initial, purchases)
        raise AssertionError("the books disagree after the outage:\n" + "\n".join(wrong)) from err


async def test_a_cassandra_outage_during_a_checkout_burst_loses_no_payment(disrupted_shop, gateway):
    shop = disrupted_shop
    initial, purchases = await checkout_setup(gateway, "cql")
    before, during_outage, after = purchases[:6], purchases[6:10], purchases[10:]

    # Six customers pay; payments keeps their events in its outbox until Cassandra is down.
    shop.kill("payments")
    await asyncio.to_thread(shop.start_subgraph, "payments", SHOP_EVENTS_ENABLED="false")
    assert all(await asyncio.gather(*(paid(gateway, p) for p in before)))

    shop.kill("cql")
    outage_started = time.monotonic()
    shop.kill("payments")
    await asyncio.to_thread(shop.start_subgraph, "payments")  # the relay publishes now
    # Four more try to pay or cancel while the orders' engine is down.
    tried = await during(
        CASSANDRA_DOWN_SECONDS - (time.monotonic() - outage_started),
        *(paid(gateway, p) for p in during_outage[:2]),
        *(cancelled(gateway, p) for p in during_outage[2:]),
    )
    assert True not in tried, "orders answered without its engine"
    await asyncio.to_thread(shop.start_cql)

    # Once it is back, they try again, and two more customers cancel.
    await asyncio.gather(
        *(until_done(functools.partial(paid, gateway, p)) for p in during_outage[:2]),
        *(
            until_done(functools.partial(cancelled, gateway, p))
            for p in [*during_outage[2:], *after]
        ),
    )
    await settled(shop, gateway, initial, purchases)
    statuses = Counter(status for status, _ in await order_states(gateway, purchases))
    assert statuses == {"PAID": 8, "CANCELLED": 4}
    assert_retried_and_nothing_parked(await consumer_metrics(shop, "orders"))


async def test_a_mongodb_outage_during_a_checkout_burst_gives_all_stock_back(
    disrupted_shop, gateway
):
    shop = disrupted_shop
    initial, purchases = await checkout_setup(gateway, "mongo")
    # The last customer neither pays nor cancels: the order keeps its stock held.
    payers, refunded, cancellers = purchases[:6], purchases[6:8], purchases[8:11]

    async def pay_then_cancel(p: Purchase) -> bool:
        if not await paid(gateway, p):
            return False

        async def is_paid() -> bool:
            data = await gateway.data(ORDER_STATUS, {"id": p.order_id}, p.token)
            return data["order"]["status"] == "PAID"

        await eventually(is_paid, timeout=30)
        return await cancelled(gateway, p)

    # Acknowledged writes reach SecantusDB's disk within a second unless journaled (issue 10,
    # "Acknowledged catalog writes lost on a crash", has a test of its own): flushed here, so
    # that this test is about the events consumed during the outage.
    await flush_to_disk(shop)
    shop.kill("mongo")
    # Items' engine is down; paying and cancelling need only orders and payments.
    done = await during(
        OUTAGE_SECONDS,
        *(paid(gateway, p) for p in payers),
        *(pay_then_cancel(p) for p in refunded),
        *(cancelled(gateway, p) for p in cancellers),
    )
    assert done == [True] * 11, done
    await asyncio.to_thread(shop.start_mongo)

    await settled(shop, gateway, initial, purchases)
    statuses = Counter(status for status, _ in await order_states(gateway, purchases))
    assert statuses == {"PAID": 6, "REFUNDED": 2, "CANCELLED": 3, "PENDING_PAYMENT": 1}
    assert_retried_and_nothing_parked(await consumer_metrics(shop, "items"))


def test_the_real_engines_stacks_data_folder_is_private_after_the_outages(disrupted_shop):
    data_dir = disrupted_shop.data_dir
    for written in ["cassandra/storage", "kafka/log", "mongo", "logs/cassandra.log"]:
        assert (data_dir / written).exists(), f"{written} was not written; nothing to check"
    assert rights_too_wide(data_dir) == []


async def test_the_books_reconcile_after_the_outages(disrupted_shop):
    """Stock, orders, payments and the processor's ledger agree (``make reconcile``)."""
    await assert_books_reconcile(disrupted_shop)
