"""A flash sale on one item, at the service level against the real MongoDB-protocol server:
every concurrent reservation of an item with ample stock succeeds, and a race for the last
units gives exactly that many, never a negative stock (docs/inventory.md says why the
reservation path is built from single-document writes). A database that cannot answer makes a
request ``Unavailable`` (retryable), never an unexpected error."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from shopkit.errors import Conflict, Unavailable
from stack.process import free_port
from subgraphs.items.service.inventory import InventoryService
from subgraphs.items.service.items import ItemService
from subgraphs.items.store.database import ItemsDatabase
from tests.items.helpers import AN_ADMIN, draft


def order_id() -> str:
    return f"o-{uuid.uuid4().hex[:12]}"


async def test_two_hundred_concurrent_reservations_of_one_item_all_succeed(items, inventory):
    item = await items.create(AN_ADMIN, **draft(stock=1000))
    orders = [order_id() for _ in range(200)]
    started = time.perf_counter()
    results = await asyncio.gather(
        *(inventory.reserve(oid, [(item.id, 1)]) for oid in orders), return_exceptions=True
    )
    elapsed = time.perf_counter() - started
    failed = [r for r in results if isinstance(r, BaseException)]
    assert failed == [], f"{len(failed)} of 200 failed in {elapsed:.2f}s: {failed[:3]!r}"
    after = await items.get(item.id)
    assert (after.available, after.reserved) == (800, 200)
    held = [await inventory.get(oid) for oid in orders]
    assert sum(r.quantities()[item.id] for r in held) == 200


async def test_fifty_concurrent_reservations_for_the_last_ten_units_get_exactly_ten(
    items, inventory
):
    item = await items.create(AN_ADMIN, **draft(stock=10))
    orders = [order_id() for _ in range(50)]
    results = await asyncio.gather(
        *(inventory.reserve(oid, [(item.id, 1)]) for oid in orders), return_exceptions=True
    )
    placed = [
        oid for oid, r in zip(orders, results, strict=True) if not isinstance(r, BaseException)
    ]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(placed) == 10
    assert all(isinstance(r, Conflict) for r in refused), refused[:3]
    after = await items.get(item.id)
    assert (after.available, after.reserved) == (0, 10)
    held = [await inventory.get(oid) for oid in placed]
    assert sum(r.quantities()[item.id] for r in held) == 10


async def test_a_database_that_cannot_be_reached_makes_a_reservation_unavailable(items):
    item = await items.create(AN_ADMIN, **draft(stock=10))
    unreachable = ItemsDatabase(
        f"mongodb://127.0.0.1:{free_port()}/?directConnection=true",
        "nowhere",
        serverSelectionTimeoutMS=200,
    )
    try:
        with pytest.raises(Unavailable):
            await InventoryService(unreachable).reserve(order_id(), [(item.id, 1)])
        with pytest.raises(Unavailable):
            await ItemService(unreachable).restock(AN_ADMIN, item.id, 1)
    finally:
        unreachable.close()
