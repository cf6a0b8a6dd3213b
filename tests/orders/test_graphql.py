"""The orders GraphQL API in-process (real CQL server, items answered by respx): access
rules, errors, an idempotency-key race of real requests, the expiry sweep."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx

from shopkit.auth import mint_service_token
from subgraphs.orders.app import create_app
from subgraphs.orders.settings import OrdersSettings
from tests.orders.items_mock import ITEMS_URL, ItemsMock
from tests.support.tokens import make_token, test_verifier

CREATE = """
mutation($input: CreateOrderInput!) {
  createOrder(input: $input) {
    id status total { amount currency } customer { id }
    lines { item { id } name quantity unitPrice { amount currency } lineTotal { amount } }
    shippingAddress { city country line2 } history { status reason }
  }
}
"""
SERVICE_SECRET = "test-service-secret-of-at-least-32-bytes"
ORDER = "query($id: ID!) { order(id: $id) { id status updatedAt history { status reason } } }"


@pytest.fixture
def items() -> ItemsMock:
    mock = ItemsMock()
    mock.add("pen", 250, stock=10)
    return mock


async def running_client(
    settings: OrdersSettings, items: ItemsMock
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, verifier=test_verifier)
    with respx.mock(assert_all_called=False) as router:
        router.post(ITEMS_URL).mock(side_effect=items)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://orders") as c:
                yield c


def settings_for(cassandra_port: int, **overrides: Any) -> OrdersSettings:
    return OrdersSettings(
        cql_port=cassandra_port,
        keyspace=f"orders_{uuid.uuid4().hex[:12]}",
        items_url=ITEMS_URL,
        events_enabled=False,
        service_secret=SERVICE_SECRET,
        **overrides,
    )


@pytest.fixture
async def client(cassandra_port: int, items: ItemsMock) -> AsyncIterator[httpx.AsyncClient]:
    async for c in running_client(settings_for(cassandra_port), items):
        yield c


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict | None = None,
    *,
    token: str | None = None,
    service: bool = False,
) -> dict:
    headers = {}
    if service:
        headers["x-service-token"] = mint_service_token(SERVICE_SECRET, "payments")
    else:
        headers["x-gateway-secret"] = OrdersSettings().gateway_secret
    if token:
        headers["authorization"] = f"Bearer {token}"
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    return response.json()


def codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def create(client, token, **extra) -> dict:
    body = await gql(
        client,
        CREATE,
        {"input": {"lines": [{"itemId": "pen", "quantity": 2}], **extra}},
        token=token,
    )
    assert "errors" not in body, body
    return body["data"]["createOrder"]


async def test_create_order_answers_the_priced_order(client):
    alice = str(uuid.uuid4())
    order = await create(
        client, make_token(alice), shippingAddress={"city": "Lyon", "country": "FR"}
    )
    assert order["status"] == "PENDING_PAYMENT"
    assert order["customer"] == {"id": alice}
    assert order["total"] == {"amount": 500, "currency": "EUR"}
    assert order["lines"] == [
        {
            "item": {"id": "pen"},
            "name": "name of pen",
            "quantity": 2,
            "unitPrice": {"amount": 250, "currency": "EUR"},
            "lineTotal": {"amount": 500},
        }
    ]
    assert order["shippingAddress"] == {"city": "Lyon", "country": "FR", "line2": None}


async def test_bad_lines_are_refused_with_bad_user_input(client):
    token = make_token()
    for lines in ([], [{"itemId": "pen", "quantity": 0}], [{"itemId": "pen", "quantity": -3}]):
        body = await gql(client, CREATE, {"input": {"lines": lines}}, token=token)
        assert body["data"] is None and codes(body) == ["BAD_USER_INPUT"], body


async def test_stock_shortage_names_the_item_and_what_is_available(client):
    body = await gql(
        client,
        CREATE,
        {"input": {"lines": [{"itemId": "pen", "quantity": 11}]}},
        token=make_token(),
    )
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "CONFLICT", "itemId": "pen", "available": 10}
    assert "pen" in error["message"] and "10 available" in error["message"]


async def test_another_customers_order_is_forbidden_without_data(client):
    order = await create(client, make_token())
    intruder = make_token()
    body = await gql(client, ORDER, {"id": order["id"]}, token=intruder)
    assert body["data"] is None and codes(body) == ["FORBIDDEN"]
    for mutation in (
        "mutation($id: ID!) { cancelOrder(id: $id) { id status } }",
        'mutation($id: ID!) { updateOrder(id: $id, input: {lines: [{itemId: "pen", quantity: 1}]})'
        " { id } }",
    ):
        body = await gql(client, mutation, {"id": order["id"]}, token=intruder)
        assert body["data"] is None and codes(body) == ["FORBIDDEN"]
    entities = await gql(
        client,
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { id status } } }",
        {"r": [{"__typename": "Order", "id": order["id"]}]},
        token=intruder,
    )
    assert entities["data"]["_entities"] == [None]
    again = await gql(client, ORDER, {"id": order["id"]}, service=True)
    assert again["data"]["order"]["status"] == "PENDING_PAYMENT"


async def test_account_orders_are_visible_to_their_owner_only(client):
    alice = str(uuid.uuid4())
    order = await create(client, make_token(alice))
    query = (
        "query($r: [_Any!]!) { _entities(representations: $r) "
        "{ ... on Account { orders(first: 5) { nodes { id } hasNextPage } } } }"
    )
    variables = {"r": [{"__typename": "Account", "id": alice}]}
    mine = await gql(client, query, variables, token=make_token(alice))
    assert mine["data"]["_entities"][0]["orders"] == {
        "nodes": [{"id": order["id"]}],
        "hasNextPage": False,
    }
    assert codes(await gql(client, query, variables, token=make_token())) == ["FORBIDDEN"]
    admin = await gql(client, query, variables, token=make_token(role="ADMIN"))
    assert admin["data"]["_entities"][0]["orders"]["nodes"] == [{"id": order["id"]}]


async def test_cancel_then_update_conflicts_naming_the_status(client):
    token = make_token()
    order = await create(client, token)
    cancel = 'mutation($id: ID!) { cancelOrder(id: $id, reason: "oops") { status } }'
    assert (await gql(client, cancel, {"id": order["id"]}, token=token))["data"] == {
        "cancelOrder": {"status": "CANCELLED"}
    }
    update = (
        'mutation($id: ID!) { updateOrder(id: $id, input: {lines: [{itemId: "pen", quantity: 1}]})'
        " { id } }"
    )
    body = await gql(client, update, {"id": order["id"]}, token=token)
    assert codes(body) == ["CONFLICT"]
    assert body["errors"][0]["message"] == (
        f"Order {order['id']} is CANCELLED; only PENDING_PAYMENT or PAYMENT_FAILED orders can be "
        "updated."
    )


async def test_only_admins_complete_orders(client):
    token = make_token()
    order = await create(client, token)
    complete = "mutation($id: ID!) { completeOrder(id: $id) { status } }"
    assert codes(await gql(client, complete, {"id": order["id"]}, token=token)) == ["FORBIDDEN"]
    body = await gql(client, complete, {"id": order["id"]}, token=make_token(role="ADMIN"))
    assert codes(body) == ["CONFLICT"] and "is PENDING_PAYMENT" in body["errors"][0]["message"]


async def test_ten_concurrent_requests_with_one_idempotency_key_create_one_order(client, items):
    token = make_token()
    bodies = await asyncio.gather(
        *(
            gql(
                client,
                CREATE,
                {"input": {"lines": [{"itemId": "pen", "quantity": 1}], "idempotencyKey": "k1"}},
                token=token,
            )
            for _ in range(10)
        )
    )
    ids = {b["data"]["createOrder"]["id"] for b in bodies}
    assert len(ids) == 1 and items.reserve_calls() == 1 and items.stock["pen"] == 9
    mine = await gql(client, "{ myOrders { nodes { id } } }", token=token)
    assert [n["id"] for n in mine["data"]["myOrders"]["nodes"]] == list(ids)


async def test_requests_without_the_gateway_secret_are_refused(client):
    response = await client.post("/graphql", json={"query": "{ myOrders { nodes { id } } }"})
    assert response.status_code == 403


async def test_unpaid_orders_are_cancelled_by_the_sweep(cassandra_port, items):
    settings = settings_for(cassandra_port, payment_window_seconds=0.3, expiry_sweep_seconds=0.1)
    async for client in running_client(settings, items):
        token = make_token()
        order = await create(client, token)
        for _ in range(50):
            body = await gql(client, ORDER, {"id": order["id"]}, token=token)
            if body["data"]["order"]["status"] == "CANCELLED":
                break
            await asyncio.sleep(0.1)
        assert body["data"]["order"]["history"][-1] == {
            "status": "CANCELLED",
            "reason": "payment window expired",
        }
