"""Concurrency claims raced through the real gateway and services."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.e2e.test_user_flow import availability, create_item
from tests.support.documents import CREATE_ORDER

pytestmark = pytest.mark.e2e


async def test_ten_orders_for_the_last_three_units_reserve_exactly_three(gateway):
    item = await create_item(gateway, await gateway.login(ADMIN_EMAIL, ADMIN_PASSWORD), stock=3)
    customers = await asyncio.gather(
        *(gateway.register(f"race{n}.{uuid.uuid4().hex[:6]}@e2e.test") for n in range(10))
    )
    answers = await asyncio.gather(
        *(
            gateway(CREATE_ORDER, {"i": {"lines": [{"itemId": item["id"], "quantity": 1}]}}, token)
            for token in customers
        )
    )
    placed = [a for a in answers if not a.get("errors")]
    refused = [a for a in answers if a.get("errors")]
    assert len(placed) == 3
    assert all(a["errors"][0]["extensions"]["code"] == "CONFLICT" for a in refused), refused
    assert await availability(gateway, item["id"]) == 0


async def test_one_idempotency_key_sent_ten_times_concurrently_creates_one_order(gateway):
    item = await create_item(gateway, await gateway.login(ADMIN_EMAIL, ADMIN_PASSWORD), stock=50)
    customer = await gateway.register(f"idem.{uuid.uuid4().hex[:6]}@e2e.test")
    order_input = {"lines": [{"itemId": item["id"], "quantity": 2}], "idempotencyKey": "submit-1"}
    answers = await asyncio.gather(
        *(gateway(CREATE_ORDER, {"i": order_input}, customer) for _ in range(10))
    )
    ids = {a["data"]["createOrder"]["id"] for a in answers if not a.get("errors")}
    assert len(ids) == 1, answers
    mine = await gateway.data("{ myOrders(first: 20) { edges { node { id } } } }", token=customer)
    assert [e["node"]["id"] for e in mine["myOrders"]["edges"]] == list(ids)
    assert await availability(gateway, item["id"]) == 48
