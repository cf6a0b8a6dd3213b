"""Acknowledged catalog writes survive ``kill -9`` of the MongoDB-protocol server: items are
written with ``w="majority", j=True`` (store/database.py). The test runs its own SecantusDB on
a data directory, kills it right after the last acknowledged write, restarts it on the same
directory and finds every item and every reservation it was told about."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from stack import engines
from stack.process import Process, StartError, free_port
from subgraphs.items.service.inventory import InventoryService
from subgraphs.items.service.items import ItemService
from subgraphs.items.store.database import ItemsDatabase
from tests.items.helpers import AN_ADMIN, draft

ITEMS = 5
RESERVATIONS = 40


class Server:
    """A SecantusDB of this test's own on ``data_dir``, restartable."""

    def __init__(self, data_dir: Path, log_dir: Path) -> None:
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.port = free_port()
        self.process: Process | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self) -> None:
        try:
            self.process = engines.start_mongo(self.port, self.data_dir, self.log_dir)
        except StartError as exc:
            pytest.fail(f"SecantusDB did not start: {exc}", pytrace=False)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path / "mongo", tmp_path / "logs")
    server.start()
    yield server
    if server.process is not None:
        server.process.stop()


async def test_items_and_reservations_acknowledged_before_a_kill_9_are_there_after_restart(
    server: Server,
):
    database = f"items_{uuid.uuid4().hex[:8]}"
    db = ItemsDatabase(server.url, database)
    await db.configure()
    items, inventory = ItemService(db), InventoryService(db)
    created = [await items.create(AN_ADMIN, **draft(stock=100)) for _ in range(ITEMS)]
    reserved = {}
    for n in range(RESERVATIONS):
        order_id = f"o-{uuid.uuid4().hex[:12]}"
        item = created[n % ITEMS]
        await inventory.reserve(order_id, [(item.id, 1)])
        reserved[order_id] = item.id
    last_item = await items.create(AN_ADMIN, **draft(stock=7))
    server.kill()
    db.close()

    server.start()
    db = ItemsDatabase(server.url, database)
    try:
        items, inventory = ItemService(db), InventoryService(db)
        assert (await items.get(last_item.id)).available == 7
        for order_id, item_id in reserved.items():
            assert (await inventory.get(order_id)).quantities() == {item_id: 1}
        for item in created:
            after = await items.get(item.id)
            held = sum(1 for item_id in reserved.values() if item_id == item.id)
            assert (after.available, after.reserved) == (100 - held, held)
    finally:
        db.close()
