"""Fixtures for the items tests: a database per test module on the real SecantusDB and the
services over it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from subgraphs.items.service.inventory import InventoryService
from subgraphs.items.service.items import ItemService
from subgraphs.items.store.database import ItemsDatabase


@pytest.fixture(scope="module")
async def db(mongo_url: str) -> AsyncIterator[ItemsDatabase]:
    database = ItemsDatabase(mongo_url, f"items_{uuid.uuid4().hex[:10]}")
    await database.configure()
    yield database
    await database.client.drop_database(database.engine.database_name)
    database.close()


@pytest.fixture(scope="module")
def items(db: ItemsDatabase) -> ItemService:
    return ItemService(db)


@pytest.fixture(scope="module")
def inventory(db: ItemsDatabase) -> InventoryService:
    return InventoryService(db)
