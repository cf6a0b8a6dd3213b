"""The orders GraphQL API in-process (Apache Cassandra, items and payments answered by respx):
access rules, errors, an idempotency-key race of real requests, failures undone, the sweep of
unpaid orders."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx

from subgraphs.orders.app import create_app
from subgraphs.orders.settings import OrdersSettings
from subgraphs.orders.store.orders import CqlOrderStore
from subgraphs.orders.store.session import connect
from tests.support.addresses import BAD_ADDRESSES, GOOD_ADDRESS
from tests.support.answers import error_codes
from tests.support.callers import caller_headers
from tests.support.documents import CANCEL_ORDER
from tests.support.items_mock import ITEMS_URL, ItemsMock
from tests.support.payments_mock import PAYMENTS_URL, PaymentsMock
from tests.support.tokens import make_token, test_verifier

CREATE = """
mutation($input: CreateOrderInput!) {
  createOrder(input: $input) {
    id status total { amount currency } customer { id }
    lines { item { id } name quantity unitPrice { amount currency } lineTotal { amount } }
    shippingAddress { city country line2 } history { edges { node { status reason } } }
  }
}
"""
SERVICE_SECRET = "test-service-secret-of-at-least-32-bytes"
ORDER = "query($id: ID!) { order(id: $id) { id status updatedAt history { edges { node { status reason } } } } }"


@pytest.fixture
def items() -> ItemsMock:
    mock = ItemsMock()
    mock.add("pen", 250, stock=10)
    return mock


async def running_client(
    settings: OrdersSettings, items: ItemsMock, payments: PaymentsMock | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, verifier=test_verifier)
    with respx.mock(assert_all_called=False) as router:
        router.post(ITEMS_URL).mock(side_effect=items)
        router.post(PAYMENTS_URL).mock(side_effect=payments or PaymentsMock())
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://orders") as c:
                yield c


def settings_for(cassandra_port: int, **overrides: Any) -> OrdersSettings:
    return OrdersSettings(
        cql_port=cassandra_port,
        keyspace=f"orders_{uuid.uuid4().hex[:12]}",
        items_url=ITEMS_URL,
        payments_url=PAYMENTS_URL,
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
    headers = caller_headers(SERVICE_SECRET, token=token, service="payments" if service else None)
    if not service:
        headers["x-gateway-secret"] = OrdersSettings().gateway_secret
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    return response.json()


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
        client,
        make_token(alice),
        shippingAddress={"line1": "1 rue X", "city": "Lyon", "country": "FR"},
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
        assert body["data"] is None, body
        assert error_codes(body) == ["BAD_USER_INPUT"], body


@pytest.mark.parametrize(("address", "field"), BAD_ADDRESSES)
async def test_a_bad_shipping_address_is_refused_naming_its_field_and_changes_nothing(
    client, items, address, field
):
    """The kit's one address rule, with the same code and field as accounts' addresses."""
    token = make_token()
    lines = [{"itemId": "pen", "quantity": 1}]
    body = await gql(
        client, CREATE, {"input": {"lines": lines, "shippingAddress": address}}, token=token
    )
    assert body["data"] is None, body
    assert [e["extensions"] for e in body["errors"]] == [
        {"code": "BAD_USER_INPUT", "field": f"shippingAddress.{field}"}
    ]
    mine = await gql(client, "{ myOrders { edges { node { id } } } }", token=token)
    assert mine == {"data": {"myOrders": {"edges": []}}}
    assert items.reserve_calls() == 0


async def test_an_older_order_whose_stored_address_is_incomplete_reads_without_it(
    cassandra_port, items
):
    """Before the one address rule, createOrder took any subset of the address fields; such
    an order still reads, its shippingAddress null (the row keeps what was given)."""
    settings = settings_for(cassandra_port)
    token = make_token()
    query = "query($id: ID!) { order(id: $id) { id status shippingAddress { line1 city } } }"
    async for client in running_client(settings, items):
        order = await create(client, token, shippingAddress=GOOD_ADDRESS)
        session = await connect("127.0.0.1", cassandra_port, settings.keyspace)
        try:
            write = await session.create_prepared(
                f"UPDATE {settings.keyspace}.orders SET shipping_address = ? WHERE order_id = ?"
            )
            await session.execute(write.bind([{"city": "Oslo"}, uuid.UUID(order["id"])]))
        finally:
            await session.close()
        body = await gql(client, query, {"id": order["id"]}, token=token)
        assert body == {
            "data": {
                "order": {"id": order["id"], "status": "PENDING_PAYMENT", "shippingAddress": None}
            }
        }


async def test_stock_shortage_names_the_item_and_what_is_available(client):
    body = await gql(
        client,
        CREATE,
        {"input": {"lines": [{"itemId": "pen", "quantity": 11}]}},
        token=make_token(),
    )
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "CONFLICT", "itemId": "pen", "available": 10}
    assert "pen" in error["message"]
    assert "10 available" in error["message"]


async def test_another_customers_order_reads_as_no_order_and_cannot_be_changed(client):
    """Not yours is not found: reading it answers null with no error, as a missing order."""
    order = await create(client, make_token())
    intruder = make_token()
    body = await gql(client, ORDER, {"id": order["id"]}, token=intruder)
    assert body == {"data": {"order": None}}
    missing = await gql(client, ORDER, {"id": str(uuid.uuid4())}, token=intruder)
    assert missing == body
    for mutation in (
        "mutation($id: ID!) { cancelOrder(id: $id) { id status } }",
        'mutation($id: ID!) { updateOrder(id: $id, input: {lines: [{itemId: "pen", quantity: 1}]})'
        " { id } }",
    ):
        body = await gql(client, mutation, {"id": order["id"]}, token=intruder)
        assert body["data"] is None
        assert error_codes(body) == ["FORBIDDEN"]
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
        "{ ... on Account { orders(first: 5) { edges { node { id } } "
        "pageInfo { hasNextPage endCursor } } } } }"
    )
    variables = {"r": [{"__typename": "Account", "id": alice}]}
    mine = await gql(client, query, variables, token=make_token(alice))
    page = mine["data"]["_entities"][0]["orders"]
    assert page["edges"] == [{"node": {"id": order["id"]}}]
    assert page["pageInfo"]["hasNextPage"] is False
    assert page["pageInfo"]["endCursor"]
    assert error_codes(await gql(client, query, variables, token=make_token())) == ["FORBIDDEN"]
    admin = await gql(client, query, variables, token=make_token(role="ADMIN"))
    assert admin["data"]["_entities"][0]["orders"]["edges"] == [{"node": {"id": order["id"]}}]


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
    assert error_codes(body) == ["CONFLICT"]
    assert body["errors"][0]["message"] == (
        f"Order {order['id']} is CANCELLED; only PENDING_PAYMENT or PAYMENT_FAILED orders can be "
        "updated."
    )


async def test_only_admins_complete_orders(client):
    token = make_token()
    order = await create(client, token)
    complete = "mutation($id: ID!) { completeOrder(id: $id) { status } }"
    assert error_codes(await gql(client, complete, {"id": order["id"]}, token=token)) == [
        "FORBIDDEN"
    ]
    body = await gql(client, complete, {"id": order["id"]}, token=make_token(role="ADMIN"))
    assert error_codes(body) == ["CONFLICT"]
    assert "is PENDING_PAYMENT" in body["errors"][0]["message"]


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
    assert len(ids) == 1
    assert items.reserve_calls() == 1
    assert items.stock["pen"] == 9
    mine = await gql(client, "{ myOrders { edges { node { id } } } }", token=token)
    assert [e["node"]["id"] for e in mine["data"]["myOrders"]["edges"]] == list(ids)


async def test_a_key_reused_with_other_lines_is_refused_as_payments_refuses_it(client, items):
    """The kit's one idempotency rule (shopkit.idempotency), as payments applies it: the same
    code, the field named, nothing changed."""
    token = make_token()
    first = await create(client, token, idempotencyKey="same")
    body = await gql(
        client,
        CREATE,
        {"input": {"lines": [{"itemId": "pen", "quantity": 3}], "idempotencyKey": "same"}},
        token=token,
    )
    assert body["data"] is None
    assert error_codes(body) == ["IDEMPOTENCY_KEY_REUSED"]
    assert body["errors"][0]["extensions"]["field"] == "idempotencyKey"
    assert items.reserve_calls() == 1
    long_key = await create(client, token, idempotencyKey="k" * 255)
    assert long_key["id"] != first["id"]
    too_long = await gql(
        client,
        CREATE,
        {"input": {"lines": [{"itemId": "pen", "quantity": 1}], "idempotencyKey": "k" * 256}},
        token=token,
    )
    assert error_codes(too_long) == ["BAD_USER_INPUT"]


async def test_requests_without_the_gateway_secret_are_refused(client):
    response = await client.post(
        "/graphql", json={"query": "{ myOrders { edges { node { id } } } }"}
    )
    assert response.status_code == 403


# -- createOrder with an idempotency key that fails (issue 10, item 8) --------------------------

UNKNOWN_ITEM = {"lines": [{"itemId": "-5848314", "quantity": 675}], "idempotencyKey": "k2"}


async def create_with_key(client: httpx.AsyncClient, token: str) -> dict:
    return await gql(client, CREATE, {"input": UNKNOWN_ITEM}, token=token)


@pytest.mark.parametrize("cql_engine", ["cassandra", "cqlserver"], indirect=True)
async def test_an_idempotent_create_that_fails_answers_its_error_twice_and_frees_the_key(
    cql_engine, items
):
    async for client in running_client(settings_for(cql_engine), items):
        token = make_token()
        for _ in range(2):
            body = await create_with_key(client, token)
            assert body["data"] is None, body
            assert error_codes(body) == ["NOT_FOUND"], body
            assert body["errors"][0]["message"] == "Item -5848314 does not exist."
        items.add("-5848314", 10, stock=1000)
        body = await create_with_key(client, token)
        assert body["data"]["createOrder"]["lines"][0]["quantity"] == 675, body


async def test_a_key_that_cannot_be_freed_never_masks_the_error_and_is_taken_over_later(
    cassandra_port, items, monkeypatch, capsys
):
    async def refused(self, customer_id: str, key: str, order_id: str) -> None:
        raise RuntimeError("Some clustering keys are missing")  # what the cqlserver answered

    monkeypatch.setattr(CqlOrderStore, "drop_idempotency_key", refused)
    settings = settings_for(cassandra_port, idempotency_lease_seconds=1.5)
    async for client in running_client(settings, items):
        token = make_token()
        for _ in range(2):  # the second waits for the first's lease, then takes the key over
            body = await create_with_key(client, token)
            assert error_codes(body) == ["NOT_FOUND"], body
            assert body["errors"][0]["message"] == "Item -5848314 does not exist."
        assert "could not free the idempotency key" in capsys.readouterr().out  # the app's log
        items.add("-5848314", 10, stock=1000)
        created = (await create_with_key(client, token))["data"]["createOrder"]
        again = (await create_with_key(client, token))["data"]["createOrder"]
        assert created["id"] == again["id"]
        assert items.reserve_calls() == 3


# -- what items' sweep asks: order(id) with the service token (issue 10, item 5) ----------------


async def test_a_service_reads_an_order_status_and_null_for_an_order_that_does_not_exist(
    client,
):
    token = make_token()
    order = await create(client, token)
    await gql(client, CANCEL_ORDER, {"id": order["id"]}, token=token)
    body = await gql(client, ORDER, {"id": order["id"]}, service=True)
    assert body["data"]["order"]["status"] == "CANCELLED"
    for missing in (str(uuid.uuid4()), "not-an-order-id"):
        body = await gql(client, ORDER, {"id": missing}, service=True)
        assert body == {"data": {"order": None}}, body


# -- reservations always belong to an order (issue 10, item 5) ---------------------------------


async def test_a_create_whose_reservation_answer_is_lost_leaves_no_stock_held(client, items):
    items.lose_reserve_answers = True
    body = await gql(
        client, CREATE, {"input": {"lines": [{"itemId": "pen", "quantity": 3}]}}, token=make_token()
    )
    assert error_codes(body) == ["SERVICE_UNAVAILABLE"], body
    assert items.held() == {}
    assert items.stock["pen"] == 10


async def test_an_update_whose_reservation_answer_is_lost_holds_the_stored_lines(client, items):
    token = make_token()
    order = await create(client, token)
    items.lose_reserve_answers = True
    update = (
        'mutation($id: ID!) { updateOrder(id: $id, input: {lines: [{itemId: "pen", quantity: 7}]})'
        " { id } }"
    )
    assert error_codes(await gql(client, update, {"id": order["id"]}, token=token)) == [
        "SERVICE_UNAVAILABLE"
    ]
    assert items.held() == {order["id"]: {"pen": 2}}
    assert items.stock["pen"] == 8
    body = await gql(client, ORDER, {"id": order["id"]}, token=token)
    assert body["data"]["order"]["status"] == "PENDING_PAYMENT"


# -- the sweep of unpaid orders (issue 10, item 4) ----------------------------------------------

SWEEPING = {
    "payment_window_seconds": 0.3,
    "expiry_sweep_seconds": 0.1,
    "reconcile_after_seconds": 0,
}


async def status_after_sweeps(
    client: httpx.AsyncClient, token: str, order_id: str, payments: PaymentsMock, sweeps: int = 4
) -> dict:
    """The order once payments was asked about it ``sweeps`` times (past its window)."""
    await asyncio.sleep(0.3)
    for _ in range(100):
        if sum(order_id in asked for asked in payments.asked) >= sweeps:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"the sweep asked payments about the order {payments.asked}")
    return (await gql(client, ORDER, {"id": order_id}, token=token))["data"]["order"]


async def test_unpaid_orders_are_cancelled_by_the_sweep(cassandra_port, items):
    payments = PaymentsMock()
    async for client in running_client(settings_for(cassandra_port, **SWEEPING), items, payments):
        token = make_token()
        failed = await create(client, token)
        never_paid = await create(client, token)
        payments.add(failed["id"], "FAILED", 500)
        for order in (failed, never_paid):
            for _ in range(50):
                body = await gql(client, ORDER, {"id": order["id"]}, token=token)
                if body["data"]["order"]["status"] == "CANCELLED":
                    break
                await asyncio.sleep(0.1)
            assert body["data"]["order"]["history"]["edges"][-1]["node"] == {
                "status": "CANCELLED",
                "reason": "payment window expired",
            }


@pytest.mark.parametrize(
    ("status", "refunded"), [("PENDING", 0), ("UNKNOWN_NEW_STATUS", 0), ("PARTIALLY_REFUNDED", 1)]
)
async def test_the_sweep_never_cancels_an_order_whose_payment_is_in_flight_or_holds_money(
    cassandra_port, items, status, refunded
):
    payments = PaymentsMock()
    async for client in running_client(settings_for(cassandra_port, **SWEEPING), items, payments):
        token = make_token()
        order = await create(client, token)
        payments.add(order["id"], "FAILED", 500)
        payments.add(order["id"], status, 500, refunded=refunded)
        found = await status_after_sweeps(client, token, order["id"], payments)
        assert found["status"] == "PENDING_PAYMENT"


async def test_the_sweep_cancels_nothing_while_payments_cannot_be_asked(cassandra_port, items):
    payments = PaymentsMock(down=True)
    async for client in running_client(settings_for(cassandra_port, **SWEEPING), items, payments):
        token = make_token()
        order = await create(client, token)
        found = await status_after_sweeps(client, token, order["id"], payments, sweeps=2)
        assert found["status"] == "PENDING_PAYMENT"


async def test_the_sweep_pays_an_order_whose_payment_event_was_lost(cassandra_port, items):
    payments = PaymentsMock()
    async for client in running_client(settings_for(cassandra_port, **SWEEPING), items, payments):
        token = make_token()
        order = await create(client, token)
        payment_id = payments.add(order["id"], "SUCCEEDED", 500)
        found = await status_after_sweeps(client, token, order["id"], payments, sweeps=1)
        for _ in range(30):
            if found["status"] == "PAID":
                break
            await asyncio.sleep(0.1)
            found = (await gql(client, ORDER, {"id": order["id"]}, token=token))["data"]["order"]
        assert found["status"] == "PAID"
        assert (
            found["history"]["edges"][-1]["node"]["reason"]
            == f"payment.succeeded (payment {payment_id}, reconciled)"
        )
