"""Helpers for the items tests: settings, item drafts, the running app and a GraphQL
client that sends the gateway secret, an access token or a service credential."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx

from shopkit.auth import Identity
from subgraphs.items.app import create_app
from subgraphs.items.domain.model import Item
from subgraphs.items.service.inventory import InventoryService
from subgraphs.items.service.items import ItemService
from subgraphs.items.settings import ItemsSettings
from subgraphs.items.store.database import ItemsDatabase
from tests.support.callers import caller_headers
from tests.support.tokens import make_token, test_verifier

GATEWAY_SECRET = "g" * 40
SERVICE_SECRET = "s" * 40


def items_settings(mongo_url: str, **overrides: Any) -> ItemsSettings:
    values: dict[str, Any] = {
        "mongo_url": mongo_url,
        "database": f"items_{uuid.uuid4().hex[:10]}",
        "env": "test",
        "gateway_secret": GATEWAY_SECRET,
        "service_secret": SERVICE_SECRET,
        "events_enabled": False,
        **overrides,
    }
    return ItemsSettings(**values)


def unique_upc() -> str:
    return str(uuid.uuid4().int)[:12]


# The caller of the service-level tests' catalog writes (``ItemService`` checks the role).
AN_ADMIN = Identity(account_id="admin-of-the-tests", role="ADMIN")


def draft(**overrides: Any) -> dict[str, Any]:
    """The fields of a valid new item (``ItemService.create``'s), with ``overrides``."""
    return {
        "upc": unique_upc(),
        "name": "Test Widget",
        "description": "A widget for tests.",
        "price_amount": 1999,
        "price_currency": "USD",
        "image_urls": ["https://img.example.com/w.jpg"],
        "attributes": {"color": "red"},
        "stock": 10,
        **overrides,
    }


async def an_item_held(
    items: ItemService, inventory: InventoryService, order_id: str, quantity: int, stock: int = 10
) -> Item:
    """A new item with ``stock`` in store, ``quantity`` of which the order holds (reserved,
    not yet sold): the start of most stock tests."""
    item = await items.create(AN_ADMIN, **draft(stock=stock))
    await inventory.reserve(order_id, [(item.id, quantity)])
    return item


@contextlib.asynccontextmanager
async def own_database(mongo_url: str, prefix: str) -> AsyncIterator[ItemsDatabase]:
    """An items database no other test uses (``prefix`` and a random suffix), configured as
    the app configures it, and dropped afterwards."""
    database = ItemsDatabase(mongo_url, f"{prefix}_{uuid.uuid4().hex[:10]}")
    await database.configure()
    yield database
    await database.client.drop_database(database.engine.database_name)
    database.close()


@contextlib.asynccontextmanager
async def running_app(settings: ItemsSettings) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    app = create_app(settings, verifier=test_verifier)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://items",
            headers={"x-gateway-secret": GATEWAY_SECRET},
        ) as client:
            yield app, client


# Made once when the tests are collected: valid for a day, however long the session runs (a
# 15-minute token expired before the items tests ran in a slow session).
SESSION_LONG: dict[str, Any] = {"exp": int(time.time()) + 24 * 3600}
ADMIN = make_token(role="ADMIN", **SESSION_LONG)
CUSTOMER = make_token(role="CUSTOMER", **SESSION_LONG)


class GraphQL:
    """Posts operations to ``/graphql`` as a given caller."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        service: str | None = None,
    ) -> dict[str, Any]:
        headers = caller_headers(SERVICE_SECRET, token=token, service=service)
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()


async def outbox_events(db: Any, subject: str | None = None) -> list[Any]:
    """The events in the outbox (optionally for one subject), oldest first."""
    from shopkit.events import CloudEvent

    filter_ = {"key": subject} if subject else {}
    rows = await db.outbox.collection.find(filter_).sort("seq", 1).to_list(None)
    return [CloudEvent.from_json(row["value"]) for row in rows]


def event_schemas() -> Any:
    from shopkit.events.schemas import producer_schemas

    return producer_schemas("items")
