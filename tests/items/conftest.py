"""Fixtures for the items tests: a database per test module on the real SecantusDB and the
services over it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from subgraphs.items.service.inventory import InventoryService
from subgraphs.items.service.items import ItemService
from subgraphs.items.store.database import ItemsDatabase
from tests.items.helpers import own_database


@pytest.fixture(scope="module")
async def db(mongo_url: str) -> AsyncIterator[ItemsDatabase]:
    async with own_database(mongo_url, "items") as database:
        yield database


@pytest.fixture(scope="module")
def items(db: ItemsDatabase) -> ItemService:
    return ItemService(db)


@pytest.fixture(scope="module")
def inventory(db: ItemsDatabase) -> InventoryService:
    return InventoryService(db)
