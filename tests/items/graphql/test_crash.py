"""``kill -9`` of the items service in the middle of a burst of reservations of one item loses
and double-counts no stock: the service runs as a real uvicorn process on the real
MongoDB-protocol server, is killed while reservations are in flight, and after the repair
its sweep runs (the lease taken as passed), every unit is either in ``available`` or held by
a finished reservation, every acknowledged reservation is there, and each has one event."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from shopkit.auth import SERVICE_TOKEN_HEADER, mint_service_token
from stack.process import Process, StartError, free_port, http_ok, spawn
from subgraphs.items.domain.reservation import ReservationStatus
from subgraphs.items.service.inventory import InventoryService
from subgraphs.items.service.items import ItemService
from subgraphs.items.service.stock_changes import CHANGE_LEASE_SECONDS, StockChanges
from subgraphs.items.store.database import ItemsDatabase
from subgraphs.items.store.documents import ItemDoc, ReservationDoc
from subgraphs.items.store.reservations import ReservationStore
from tests.items.helpers import AN_ADMIN, GATEWAY_SECRET, SERVICE_SECRET, draft, outbox_events

STOCK = 1000
WORKERS = 30  # reservations kept in flight until the kill
MAX_ORDERS = 600  # bounds the burst (each takes one unit of STOCK)
KILL_AFTER = 10
KILL_WITH_IN_FLIGHT = 5
RESERVE = """mutation($o: ID!, $i: ID!) {
  reserveStock(orderId: $o, lines: [{itemId: $i, quantity: 1}]) { orderId }
}"""


async def in_flight(db: ItemsDatabase) -> int:
    return await db.collection(ReservationDoc).count_documents({"change": {"$ne": None}})


@pytest.fixture
def database() -> str:
    return f"crash_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def items_process(mongo_url: str, database: str, tmp_path: Path) -> Iterator[tuple[Process, str]]:
    port = free_port()
    env = {
        "ITEMS_MONGO_URL": mongo_url,
        "ITEMS_DATABASE": database,
        "SHOP_ENV": "test",
        "SHOP_GATEWAY_SECRET": GATEWAY_SECRET,
        "SHOP_SERVICE_SECRET": SERVICE_SECRET,
        "SHOP_EVENTS_ENABLED": "false",
        "SHOP_DATA_DIR": str(tmp_path),
    }
    argv = [sys.executable, "-m", "uvicorn", "subgraphs.items.app:create_app", "--factory"]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    process = spawn("items", argv, log_dir=tmp_path / "logs", env=env)
    try:
        process.wait_until(
            lambda: http_ok(f"http://127.0.0.1:{port}/healthz"), timeout=60, hint="items"
        )
    except StartError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield process, f"http://127.0.0.1:{port}/graphql"
    process.stop()


async def test_kill_9_of_items_mid_reservations_loses_and_double_counts_no_stock(
    mongo_url: str, database: str, items_process: tuple[Process, str]
):
    process, url = items_process
    db = ItemsDatabase(mongo_url, database)
    await db.configure()
    item = await ItemService(db).create(AN_ADMIN, **draft(stock=STOCK))
    headers = {SERVICE_TOKEN_HEADER: mint_service_token(SERVICE_SECRET, "orders")}
    acknowledged: list[str] = []
    answered = asyncio.Event()

    killed = asyncio.Event()
    sent = 0

    async def reserve(http: httpx.AsyncClient, order_id: str) -> None:
        variables = {"o": order_id, "i": item.id}
        try:
            response = await http.post(url, json={"query": RESERVE, "variables": variables})
        except httpx.HTTPError:
            return
        body = response.json()
        if response.status_code == 200 and not body.get("errors"):
            acknowledged.append(order_id)
            if len(acknowledged) >= KILL_AFTER:
                answered.set()

    async def keep_reserving(http: httpx.AsyncClient) -> None:
        """One reservation after another until the process is killed: there are always
        changes in flight to be cut short, however fast the service answers."""
        nonlocal sent
        while not killed.is_set() and sent < MAX_ORDERS:
            sent += 1
            await reserve(http, f"o-{uuid.uuid4().hex[:12]}")

    async with httpx.AsyncClient(headers=headers, timeout=30) as http:
        burst = asyncio.gather(*(keep_reserving(http) for _ in range(WORKERS)))
        await asyncio.wait_for(answered.wait(), timeout=60)
        async with asyncio.timeout(60):
            while await in_flight(db) < KILL_WITH_IN_FLIGHT:
                await asyncio.sleep(0.002)
        process.kill()
        killed.set()
        await burst

    class LeasePassed:
        def __call__(self) -> datetime:
            return datetime.now(UTC) + timedelta(seconds=CHANGE_LEASE_SECONDS + 1)

    store = ReservationStore(db)
    changes = StockChanges(store, review_after=timedelta(minutes=10), clock=LeasePassed())
    inventory = InventoryService(db, changes=changes)
    repaired = await inventory.repair()
    try:
        assert repaired >= 1, "the kill came when no change was in flight"
        after = await ItemService(db).get(item.id)
        held = [raw async for raw in db.collection(ReservationDoc).find({"lines.item_id": item.id})]
        assert all(raw.get("change") is None for raw in held)
        assert all(raw["status"] == ReservationStatus.HELD.value for raw in held)
        assert after.reserved == len(held)
        assert after.available + after.reserved == STOCK
        assert set(acknowledged) <= {raw["_id"] for raw in held}
        raw_item = await db.collection(ItemDoc).find_one({"upc": item.upc})
        assert raw_item["pending"] == []
        for raw in held:
            events = await outbox_events(db, raw["_id"])
            assert [e.type for e in events] == ["inventory.reserved"]
        assert await db.collection(ReservationDoc).count_documents({"change": {"$ne": None}}) == 0
    finally:
        await db.client.drop_database(database)
        db.close()
