"""A stock change cut short at each step (as by ``kill -9`` of items) is repaired exactly once,
against the real MongoDB-protocol server: one left before it finished is rolled back, one
left after is completed with its event, and a move that landed after its change ended is
reversed. The crash is a ``CancelledError`` raised by the store at the chosen step, which
leaves the documents as a dead process would."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from shopkit.errors import NotFound
from subgraphs.items.domain.reservation import ReservationStatus, StockMove
from subgraphs.items.service.inventory import InventoryService
from subgraphs.items.service.stock_changes import CHANGE_LEASE_SECONDS, StockChanges
from subgraphs.items.store.reservations import ReservationStore
from tests.items.helpers import AN_ADMIN, an_item_held, draft, outbox_events


class Clock:
    def __init__(self) -> None:
        self.skew = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.skew

    def pass_the_lease(self) -> None:
        self.skew += timedelta(seconds=CHANGE_LEASE_SECONDS + 1)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def inventory(db, clock) -> InventoryService:
    store = ReservationStore(db)
    changes = StockChanges(store, review_after=timedelta(minutes=10), clock=clock)
    return InventoryService(db, changes=changes)


def order_id() -> str:
    return f"o-{uuid.uuid4().hex[:12]}"


def crash_on(store: ReservationStore, step: str, *, after: int = 0) -> None:
    """Makes the store's ``step`` die (CancelledError) on its call number ``after + 1``."""
    real = getattr(store, step)
    calls = {"n": 0}

    async def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > after:
            raise asyncio.CancelledError()
        return await real(*args, **kwargs)

    setattr(store, step, dying)


def heal(store: ReservationStore) -> None:
    for step in ("move", "finish", "publish", "settle", "clear"):
        store.__dict__.pop(step, None)


async def counters(items, item_id) -> tuple[int, int]:
    item = await items.get(item_id)
    return item.available, item.reserved


@pytest.mark.parametrize(("step", "after"), [("move", 0), ("move", 1), ("finish", 0)])
async def test_a_reservation_cut_before_it_finished_is_rolled_back(
    items, inventory, db, clock, step, after
):
    a, b = (
        await items.create(AN_ADMIN, **draft(stock=10)),
        await items.create(AN_ADMIN, **draft(stock=10)),
    )
    oid = order_id()
    crash_on(inventory.store, step, after=after)
    with pytest.raises(asyncio.CancelledError):
        await inventory.reserve(oid, [(a.id, 2), (b.id, 3)])
    heal(inventory.store)
    with pytest.raises(NotFound):
        await inventory.get(oid)
    clock.pass_the_lease()
    assert await inventory.repair() >= 1
    assert await counters(items, a.id) == (10, 0)
    assert await counters(items, b.id) == (10, 0)
    assert await outbox_events(db, oid) == []
    assert await inventory.store.get(oid) is None
    assert await inventory.repair() == 0


@pytest.mark.parametrize("step", ["publish", "settle", "clear"])
async def test_a_reservation_cut_after_it_finished_is_completed_once(
    items, inventory, db, clock, step
):
    item = await items.create(AN_ADMIN, **draft(stock=10))
    oid = order_id()
    crash_on(inventory.store, step)
    with pytest.raises(asyncio.CancelledError):
        await inventory.reserve(oid, [(item.id, 4)])
    heal(inventory.store)
    assert (await inventory.get(oid)).quantities() == {item.id: 4}
    clock.pass_the_lease()
    await inventory.repair()
    assert await counters(items, item.id) == (6, 4)
    assert [e.type for e in await outbox_events(db, oid)] == ["inventory.reserved"]
    stored = await inventory.store.get(oid)
    assert stored is not None
    assert stored.change is None
    raw = await inventory.store.items.find_one({"_id": ObjectId(item.id)})
    assert raw["pending"] == []


async def test_the_next_request_for_the_order_waits_for_a_finished_change_and_completes_it(
    items, inventory, db
):
    item = await items.create(AN_ADMIN, **draft(stock=10))
    oid = order_id()
    crash_on(inventory.store, "publish")
    with pytest.raises(asyncio.CancelledError):
        await inventory.reserve(oid, [(item.id, 1)])
    heal(inventory.store)
    released = await inventory.release(oid)
    assert released.status is ReservationStatus.RELEASED
    assert await counters(items, item.id) == (10, 0)
    types = [e.type for e in await outbox_events(db, oid)]
    assert types == ["inventory.reserved", "inventory.released"]


async def test_a_request_after_the_lease_rolls_back_the_dead_change_and_proceeds(
    items, inventory, db, clock
):
    oid = order_id()
    item = await an_item_held(items, inventory, oid, 1)
    crash_on(inventory.store, "finish")
    with pytest.raises(asyncio.CancelledError):
        await inventory.reserve(oid, [(item.id, 5)])
    heal(inventory.store)
    assert await counters(items, item.id) == (5, 5)  # the dead change's move is still made
    clock.pass_the_lease()
    reservation = await inventory.reserve(oid, [(item.id, 3)])
    assert reservation.quantities() == {item.id: 3}
    assert await counters(items, item.id) == (7, 3)
    assert [e.data["lines"][0]["quantity"] for e in await outbox_events(db, oid)] == [1, 3]


async def test_a_move_that_lands_after_its_change_ended_is_reversed(items, inventory, clock):
    item = await items.create(AN_ADMIN, **draft(stock=10))
    late = StockMove(item.id, -2, 2)
    await inventory.store.move(order_id(), uuid.uuid4().hex, late)
    assert await counters(items, item.id) == (8, 2)
    assert await inventory.repair() == 0  # not yet past the lease: maybe still in flight
    clock.pass_the_lease()
    assert await inventory.repair() == 1
    assert await counters(items, item.id) == (10, 0)
