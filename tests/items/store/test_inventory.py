"""Stock reservations against the real MongoDB-protocol server: all or nothing, idempotent per
order, adjusted by difference, and never below zero under concurrency."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from shopkit.auth import Identity
from shopkit.errors import Conflict, Forbidden, InvalidInput, NotFound
from subgraphs.items.domain.reservation import ReservationStatus
from tests.items.helpers import AN_ADMIN, an_item_held, draft, event_schemas, outbox_events


def order_id() -> str:
    return f"o-{uuid.uuid4().hex[:12]}"


async def counters(items, item_id):
    item = await items.get(item_id)
    return item.available, item.reserved


async def test_reserve_moves_stock_and_answers_each_line(items, inventory, db):
    item = await items.create(AN_ADMIN, **draft(stock=10, name="Blue Mug"))
    oid = order_id()
    reservation = await inventory.reserve(oid, [(item.id, 3)])
    assert reservation.status is ReservationStatus.HELD
    [line] = reservation.lines
    assert (line.item_id, line.name, line.upc, line.quantity) == (item.id, "Blue Mug", item.upc, 3)
    assert line.unit_price == item.unit_price
    assert await counters(items, item.id) == (7, 3)
    [event] = await outbox_events(db, oid)
    assert event.type == "inventory.reserved"
    assert event.data["lines"][0]["quantity"] == 3
    event_schemas().validate(event)


async def test_repeating_a_reservation_changes_nothing(items, inventory, db):
    item = await items.create(AN_ADMIN, **draft(stock=10))
    oid = order_id()
    first = await inventory.reserve(oid, [(item.id, 4)])
    again = await inventory.reserve(oid, [(item.id, 4)])
    assert again == first
    assert await counters(items, item.id) == (6, 4)
    assert len(await outbox_events(db, oid)) == 1


async def test_changed_lines_adjust_stock_by_the_difference(items, inventory, db):
    a = await items.create(AN_ADMIN, **draft(stock=10))
    b = await items.create(AN_ADMIN, **draft(stock=10))
    c = await items.create(AN_ADMIN, **draft(stock=10))
    oid = order_id()
    await inventory.reserve(oid, [(a.id, 5), (b.id, 2)])
    reservation = await inventory.reserve(oid, [(a.id, 1), (c.id, 4)])
    assert reservation.quantities() == {a.id: 1, c.id: 4}
    assert await counters(items, a.id) == (9, 1)
    assert await counters(items, b.id) == (10, 0)
    assert await counters(items, c.id) == (6, 4)
    events = await outbox_events(db, oid)
    assert [e.type for e in events] == ["inventory.reserved", "inventory.reserved"]


async def test_duplicate_item_lines_are_merged(items, inventory):
    item = await items.create(AN_ADMIN, **draft(stock=10))
    reservation = await inventory.reserve(order_id(), [(item.id, 2), (item.id, 3)])
    assert [(line.item_id, line.quantity) for line in reservation.lines] == [(item.id, 5)]
    assert await counters(items, item.id) == (5, 5)


async def test_not_enough_stock_is_a_conflict_and_reserves_nothing(items, inventory, db):
    plenty = await items.create(AN_ADMIN, **draft(stock=10))
    scarce = await items.create(AN_ADMIN, **draft(stock=2, name="Rare Lamp"))
    oid = order_id()
    with pytest.raises(Conflict) as caught:
        await inventory.reserve(oid, [(plenty.id, 1), (scarce.id, 3)])
    assert caught.value.message == "Only 2 of Rare Lamp available."
    assert caught.value.extensions == {"code": "CONFLICT", "itemId": scarce.id, "available": 2}
    assert await counters(items, plenty.id) == (10, 0)
    assert await counters(items, scarce.id) == (2, 0)
    assert await outbox_events(db, oid) == []
    with pytest.raises(NotFound):
        await inventory.get(oid)


async def test_growing_a_reservation_beyond_stock_keeps_the_previous_one(items, inventory):
    oid = order_id()
    item = await an_item_held(items, inventory, oid, 4, stock=5)
    with pytest.raises(Conflict) as caught:
        await inventory.reserve(oid, [(item.id, 6)])
    assert caught.value.details["available"] == 1
    assert (await inventory.get(oid)).quantities() == {item.id: 4}
    assert await counters(items, item.id) == (1, 4)


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ([], "BAD_USER_INPUT"),
        ([("not-an-id", 1)], "BAD_USER_INPUT"),
        ([("0" * 24, 0)], "BAD_USER_INPUT"),
        ([("0" * 24, -2)], "BAD_USER_INPUT"),
        ([("0" * 24, 1)], "NOT_FOUND"),
    ],
)
async def test_bad_reservation_lines_are_refused(inventory, lines, code):
    oid = order_id()
    with pytest.raises((InvalidInput, NotFound)) as caught:
        await inventory.reserve(oid, lines)
    assert caught.value.code == code
    with pytest.raises(NotFound):
        await inventory.get(oid)


async def test_release_returns_stock_once(items, inventory, db):
    oid = order_id()
    item = await an_item_held(items, inventory, oid, 3)
    released = await inventory.release(oid)
    again = await inventory.release(oid)
    assert released.status is again.status is ReservationStatus.RELEASED
    assert await counters(items, item.id) == (10, 0)
    types = [e.type for e in await outbox_events(db, oid)]
    assert types == ["inventory.reserved", "inventory.released"]


async def test_commit_removes_reserved_stock_once(items, inventory, db):
    oid = order_id()
    item = await an_item_held(items, inventory, oid, 3)
    await inventory.commit(oid)
    committed = await inventory.commit(oid)
    assert committed.status is ReservationStatus.COMMITTED
    assert await counters(items, item.id) == (7, 0)
    events = await outbox_events(db, oid)
    assert [e.type for e in events] == ["inventory.reserved", "inventory.committed"]
    for event in events:
        event_schemas().validate(event)


async def test_releasing_a_committed_reservation_is_refused(items, inventory):
    oid = order_id()
    item = await an_item_held(items, inventory, oid, 2)
    await inventory.commit(oid)
    with pytest.raises(Conflict):
        await inventory.release(oid)
    assert await counters(items, item.id) == (8, 0)
    assert (await inventory.get(oid)).status is ReservationStatus.COMMITTED


async def test_committing_a_released_reservation_is_refused(items, inventory):
    oid = order_id()
    item = await an_item_held(items, inventory, oid, 2)
    await inventory.release(oid)
    with pytest.raises(Conflict):
        await inventory.commit(oid)
    with pytest.raises(Conflict):
        await inventory.reserve(oid, [(item.id, 2)])
    assert await counters(items, item.id) == (10, 0)


async def test_a_committed_reservation_accepts_only_the_same_lines_again(items, inventory):
    oid = order_id()
    item = await an_item_held(items, inventory, oid, 2)
    await inventory.commit(oid)
    same = await inventory.reserve(oid, [(item.id, 2)])
    assert same.status is ReservationStatus.COMMITTED
    with pytest.raises(Conflict):
        await inventory.reserve(oid, [(item.id, 3)])
    assert await counters(items, item.id) == (8, 0)


async def test_release_and_commit_of_an_unknown_order_are_not_found(inventory):
    with pytest.raises(NotFound):
        await inventory.release(order_id())
    with pytest.raises(NotFound):
        await inventory.commit(order_id())


async def test_twenty_concurrent_orders_never_oversell_five_units(items, inventory):
    item = await items.create(AN_ADMIN, **draft(stock=5))
    orders = [order_id() for _ in range(20)]
    results = await asyncio.gather(
        *(inventory.reserve(oid, [(item.id, 1)]) for oid in orders), return_exceptions=True
    )
    succeeded = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(succeeded) == 5
    assert all(isinstance(r, Conflict) for r in refused), refused
    assert await counters(items, item.id) == (0, 5)


async def test_concurrent_retries_of_one_order_reserve_once(items, inventory):
    item = await items.create(AN_ADMIN, **draft(stock=10))
    oid = order_id()
    await asyncio.gather(*(inventory.reserve(oid, [(item.id, 2)]) for _ in range(8)))
    assert await counters(items, item.id) == (8, 2)


async def test_committing_paid_lines_races_other_reservations_without_overselling(items, inventory):
    item = await items.create(AN_ADMIN, **draft(stock=4))
    paid_order, others = order_id(), [order_id() for _ in range(4)]
    await inventory.reserve(paid_order, [(item.id, 1)])
    results = await asyncio.gather(
        inventory.commit(paid_order, [(item.id, 3)]),
        *(inventory.reserve(oid, [(item.id, 1)]) for oid in others),
        return_exceptions=True,
    )
    committed = results[0]
    assert not isinstance(committed, BaseException), committed
    assert all(isinstance(r, Conflict) for r in results[1:] if isinstance(r, BaseException))
    held = sum(1 for r in results[1:] if not isinstance(r, BaseException))
    sold = committed.quantities()[item.id]
    assert sold in (1, 3)
    assert sold + held <= 4
    assert await counters(items, item.id) == (4 - sold - held, held)


@pytest.mark.parametrize(
    "caller", [Identity(), Identity(account_id="a", role="ADMIN"), Identity(account_id="c")]
)
async def test_the_service_gives_the_stock_operations_to_services_alone(items, inventory, caller):
    item = await items.create(AN_ADMIN, **draft(stock=10))
    oid = order_id()
    with pytest.raises(Forbidden):
        await inventory.reserve_stock(caller, oid, [(item.id, 2)])
    with pytest.raises(NotFound):
        await inventory.get(oid)
    orders = Identity(service="orders")
    assert (await inventory.reserve_stock(orders, oid, [(item.id, 2)])).status is (
        ReservationStatus.HELD
    )
    for operation in (inventory.release_stock, inventory.commit_stock):
        with pytest.raises(Forbidden):
            await operation(caller, oid)
    assert (await inventory.get(oid)).status is ReservationStatus.HELD
    assert (await inventory.commit_stock(orders, oid)).status is ReservationStatus.COMMITTED
