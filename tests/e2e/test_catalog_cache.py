"""The gateway's catalog cache (gateway/catalog-cache.ts), through the real gateway, items
service and Kafka: anonymous catalog reads are answered from the gateway's memory, and a
price or stock change made anywhere (the items service called directly, an order placed by
the orders service) shows within a second, because the items events invalidate it."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from bson import ObjectId
from pymongo import MongoClient

from tests.e2e.client import eventually
from tests.e2e.test_user_flow import admin_token, create_item

pytestmark = pytest.mark.e2e

ITEM = "query($id: ID!) { item(id: $id) { name unitPrice { amount } availability { inStock } } }"
VISIBLE_WITHIN = 1.0  # seconds: issue 11


@pytest.fixture(scope="module")
async def cache_live(shop):
    """The cache answers only once its Kafka consumer runs (it says so in the gateway log)."""
    log = shop.log_dir / "gateway.log"
    await eventually(lambda: _async(lambda: "catalog cache on" in log.read_text()), timeout=60)


async def _async(check):
    return check()


def rename_behind_the_shops_back(shop, item_id: str) -> str:
    """Writes the item's name straight into MongoDB: no event, so nothing invalidates."""
    name = f"Renamed {uuid.uuid4().hex[:6]}"
    with MongoClient[dict[str, Any]](shop.env()["ITEMS_MONGO_URL"]) as mongo:
        mongo["shop_items"]["items"].update_one(
            {"_id": ObjectId(item_id)}, {"$set": {"name": name}}
        )
    return name


def direct(shop, subgraph: str, query: str, variables: dict, token: str) -> dict:
    """A request sent straight to a subgraph, as the gateway (or another replica) would."""
    headers = {
        "authorization": f"Bearer {token}",
        "x-gateway-secret": shop.env()["SHOP_GATEWAY_SECRET"],
    }
    return httpx.post(
        shop.ports.url(subgraph), json={"query": query, "variables": variables}, headers=headers
    ).json()


async def anonymous_item(gateway, item_id: str) -> dict:
    return (await gateway.data(ITEM, {"id": item_id}))["item"]


async def until_visible(gateway, item_id: str, shown) -> float:
    """Seconds until the anonymous read shows what ``shown`` accepts (fails past 5 s)."""
    started = time.perf_counter()
    while time.perf_counter() - started < 5:
        if shown(await anonymous_item(gateway, item_id)):
            return time.perf_counter() - started
    raise AssertionError("the change never showed in the anonymous catalog read")


@pytest.mark.usefixtures("cache_live")
async def test_anonymous_catalog_reads_are_served_from_the_gateways_cache(gateway, shop):
    admin = await admin_token(gateway)
    item = await create_item(gateway, admin, stock=5)
    for _ in range(10):
        before = await anonymous_item(gateway, item["id"])  # stored, unless an event raced it
        secret = rename_behind_the_shops_back(shop, item["id"])
        if (await anonymous_item(gateway, item["id"]))["name"] == before["name"]:
            break
    else:
        pytest.fail("ten anonymous reads in a row reached the items service: nothing is cached")
    # An authenticated read is never cached: it sees the database.
    assert (await gateway.data(ITEM, {"id": item["id"]}, admin))["item"]["name"] == secret


@pytest.mark.usefixtures("cache_live")
async def test_a_price_change_made_beside_the_gateway_shows_within_a_second(gateway, shop):
    admin = await admin_token(gateway)
    item = await create_item(gateway, admin, stock=5, price=1000)
    await anonymous_item(gateway, item["id"])
    await anonymous_item(gateway, item["id"])
    # Straight to the items service (as another gateway replica would): only the item.updated
    # event on Kafka can tell this gateway.
    answer = direct(
        shop,
        "items",
        "mutation($id: ID!, $i: UpdateItemInput!) { updateItem(id: $id, input: $i) "
        "{ unitPrice { amount } } }",
        {"id": item["id"], "i": {"unitPrice": {"amount": 1500, "currency": "USD"}}},
        admin,
    )
    assert answer["data"]["updateItem"]["unitPrice"]["amount"] == 1500, answer
    took = await until_visible(gateway, item["id"], lambda i: i["unitPrice"]["amount"] == 1500)
    assert took < VISIBLE_WITHIN, f"the new price showed after {took:.2f}s"


@pytest.mark.usefixtures("cache_live")
async def test_a_sold_out_item_is_shown_sold_out_within_a_second(gateway, shop):
    admin = await admin_token(gateway)
    item = await create_item(gateway, admin, stock=1)
    assert (await anonymous_item(gateway, item["id"]))["availability"]["inStock"] is True
    assert (await anonymous_item(gateway, item["id"]))["availability"]["inStock"] is True
    customer = await gateway.register(f"last-one.{uuid.uuid4().hex[:6]}@e2e.test")
    # Ordered beside the gateway, and orders reserves the stock by calling items directly: the
    # inventory.reserved event on Kafka is the only way this gateway learns of it.
    answer = direct(
        shop,
        "orders",
        "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
        {"i": {"lines": [{"itemId": item["id"], "quantity": 1}]}},
        customer,
    )
    assert answer["data"]["createOrder"]["id"], answer
    took = await until_visible(gateway, item["id"], lambda i: i["availability"]["inStock"] is False)
    assert took < VISIBLE_WITHIN, f"the sold-out item showed as available for {took:.2f}s"
