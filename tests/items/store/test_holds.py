"""The orphan-hold sweep against the real MongoDB-protocol server, with the orders service's
answers given by respx: after the grace period, a hold whose order does not exist or has
ended unpaid is released, a paid order's lines are committed once, a hold whose order awaits
payment is kept, and nothing is released when orders cannot be asked."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from shopkit.auth import SERVICE_TOKEN_HEADER
from shopkit.service_client import ServiceClient
from subgraphs.items.domain.reservation import ReservationStatus
from subgraphs.items.service.holds import OrphanHoldSweep
from subgraphs.items.service.inventory import InventoryService
from subgraphs.items.service.items import ItemService
from subgraphs.items.service.orders import OrdersClient
from subgraphs.items.service.stock_changes import StockChanges
from subgraphs.items.store.database import ItemsDatabase
from subgraphs.items.store.reservations import ReservationStore
from tests.items.helpers import (
    SERVICE_SECRET,
    an_item_held,
    outbox_events,
    own_database,
)

ORDERS_URL = "http://orders.test/graphql"
GRACE = timedelta(minutes=10)


class Clock:
    def __init__(self) -> None:
        self.skew = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.skew


class Orders:
    """The orders service as respx answers it: one GraphQL answer per order id."""

    def __init__(self) -> None:
        self.answers: dict[str, httpx.Response | Exception] = {}
        self.asked: list[str] = []

    def order(self, order_id: str, status: str, lines: list[tuple[str, int]]) -> None:
        order = {
            "id": order_id,
            "status": status,
            "lines": [{"item": {"id": item_id}, "quantity": q} for item_id, q in lines],
        }
        self.answers[order_id] = httpx.Response(200, json={"data": {"order": order}})

    def missing(self, order_id: str) -> None:
        error = {
            "message": f"Order {order_id} does not exist.",
            "extensions": {"code": "NOT_FOUND"},
        }
        self.answers[order_id] = httpx.Response(200, json={"data": None, "errors": [error]})

    def failing(self, order_id: str, answer: httpx.Response | Exception) -> None:
        self.answers[order_id] = answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.headers.get(SERVICE_TOKEN_HEADER), "orders is asked as a service"
        order_id = json.loads(request.content)["variables"]["id"]
        self.asked.append(order_id)
        answer = self.answers[order_id]
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
async def db(mongo_url: str) -> AsyncIterator[ItemsDatabase]:
    """A database of this test's own, so that the sweep sees only its holds."""
    async with own_database(mongo_url, "holds") as database:
        yield database


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def items(db: ItemsDatabase) -> ItemService:
    return ItemService(db)


@pytest.fixture
def inventory(db: ItemsDatabase, clock: Clock) -> InventoryService:
    changes = StockChanges(ReservationStore(db), review_after=GRACE, clock=clock)
    return InventoryService(db, changes=changes)


@pytest.fixture
def answers() -> Orders:
    return Orders()


@pytest.fixture
async def sweep(inventory: InventoryService, answers: Orders) -> AsyncIterator[OrphanHoldSweep]:
    """The sweep, asking the orders service that ``answers`` plays (through respx)."""
    with respx.mock(assert_all_called=False) as router:
        router.post(ORDERS_URL).mock(side_effect=answers)
        async with httpx.AsyncClient() as http:
            client = ServiceClient(
                url=ORDERS_URL, caller="items", secret=SERVICE_SECRET, http=http, backoff=0.01
            )
            yield OrphanHoldSweep(inventory, OrdersClient(client))


def order_id() -> str:
    return str(uuid.uuid4())


async def counters(items: ItemService, item_id: str) -> tuple[int, int]:
    item = await items.get(item_id)
    return item.available, item.reserved


async def status(inventory: InventoryService, oid: str) -> ReservationStatus:
    return (await inventory.get(oid)).status


async def test_holds_younger_than_the_grace_period_are_not_asked_about(
    items, inventory, sweep, answers, clock
):
    oid = order_id()
    await an_item_held(items, inventory, oid, 2)
    answers.missing(oid)
    clock.skew = GRACE - timedelta(seconds=5)
    assert sum((await sweep.run()).values()) == 0
    assert answers.asked == []
    assert await status(inventory, oid) is ReservationStatus.HELD


@pytest.mark.parametrize("how", ["not_found", "null", "CANCELLED", "REFUNDED"])
async def test_a_hold_whose_order_does_not_exist_or_ended_unpaid_is_released(
    items, inventory, sweep, answers, clock, db, how
):
    oid = order_id()
    item = await an_item_held(items, inventory, oid, 3)
    if how == "not_found":
        answers.missing(oid)
    elif how == "null":
        answers.answers[oid] = httpx.Response(200, json={"data": {"order": None}})
    else:
        answers.order(oid, how, [(item.id, 3)])
    clock.skew = GRACE + timedelta(seconds=1)
    assert (await sweep.run())["release"] == 1
    assert await status(inventory, oid) is ReservationStatus.RELEASED
    assert await counters(items, item.id) == (10, 0)
    types = [e.type for e in await outbox_events(db, oid)]
    assert types == ["inventory.reserved", "inventory.released"]
    assert sum((await sweep.run()).values()) == 0


@pytest.mark.parametrize("order_status", ["PAID", "COMPLETED"])
async def test_a_paid_orders_hold_is_committed_once_with_the_orders_lines(
    items, inventory, sweep, answers, clock, db, order_status
):
    oid = order_id()
    item = await an_item_held(items, inventory, oid, 2)
    answers.order(oid, order_status, [(item.id, 3)])
    clock.skew = GRACE + timedelta(seconds=1)
    assert (await sweep.run())["commit"] == 1
    committed = await inventory.get(oid)
    assert committed.status is ReservationStatus.COMMITTED
    assert committed.quantities() == {item.id: 3}
    assert await counters(items, item.id) == (7, 0)
    # The order.paid event that arrives afterwards changes nothing.
    await inventory.commit(oid, [(item.id, 3)])
    assert await counters(items, item.id) == (7, 0)
    types = [e.type for e in await outbox_events(db, oid)]
    assert types == ["inventory.reserved", "inventory.committed"]


@pytest.mark.parametrize("order_status", ["PENDING_PAYMENT", "PAYMENT_FAILED", "SHIPPED"])
async def test_a_hold_whose_order_may_still_be_paid_is_kept_and_asked_about_again_later(
    items, inventory, sweep, answers, clock, order_status
):
    oid = order_id()
    item = await an_item_held(items, inventory, oid, 2)
    answers.order(oid, order_status, [(item.id, 2)])
    clock.skew = GRACE + timedelta(seconds=1)
    assert (await sweep.run())["keep"] == 1
    assert await sweep.run() == {}  # not due again before another grace period
    assert answers.asked == [oid]
    clock.skew = 2 * GRACE + timedelta(seconds=2)
    assert (await sweep.run())["keep"] == 1
    assert await status(inventory, oid) is ReservationStatus.HELD
    assert await counters(items, item.id) == (8, 2)


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500, text="boom"),
        httpx.Response(
            200,
            json={"errors": [{"message": "busy", "extensions": {"code": "SERVICE_UNAVAILABLE"}}]},
        ),
        httpx.Response(200, json={"errors": [{"message": "Unexpected error."}]}),
        httpx.Response(200, json={"data": {"order": {"id": "x", "status": "PAID"}}}),
        httpx.Response(200, text="not json"),
        httpx.ConnectError("refused"),
    ],
    ids=["500", "unavailable", "masked", "unreadable", "not-json", "unreachable"],
)
async def test_nothing_is_released_when_orders_cannot_be_asked(
    items, inventory, sweep, answers, clock, failure
):
    oid = order_id()
    item = await an_item_held(items, inventory, oid, 2)
    answers.failing(oid, failure)
    clock.skew = GRACE + timedelta(seconds=1)
    assert (await sweep.run())["unknown"] == 1
    assert await status(inventory, oid) is ReservationStatus.HELD
    assert await counters(items, item.id) == (8, 2)
    answers.order(oid, "CANCELLED", [(item.id, 2)])
    assert (await sweep.run())["release"] == 1  # asked again at the next turn
    assert await counters(items, item.id) == (10, 0)
