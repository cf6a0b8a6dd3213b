"""The Cassandra order store on Apache Cassandra and on this project's cqlserver (each test
runs on both): round trips, lightweight transactions under races, idempotency keys, paging,
the outbox and the expiry index."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import acsylla
import httpx
import pytest
import respx

from shopkit.addresses import Address
from shopkit.auth import Identity
from shopkit.events.schemas import producer_schemas
from shopkit.service_client import ServiceClient
from subgraphs.orders.domain.events import OrderCancelled
from subgraphs.orders.domain.model import KeyHolder, LineRequest, OrderStatus
from subgraphs.orders.domain.transitions import PaymentOutcome
from subgraphs.orders.service.changes import order_cloud_event
from subgraphs.orders.service.items import ItemsStock
from subgraphs.orders.service.orders import OrderService
from subgraphs.orders.store.session import ping, schema_statements
from tests.orders.conftest import ON_BOTH_CQL_ENGINES, Cql, open_cql
from tests.support.items_mock import ITEMS_URL, ItemsMock

SCHEMAS = producer_schemas("orders")

pytestmark = ON_BOTH_CQL_ENGINES


def customer() -> Identity:
    return Identity(account_id=str(uuid.uuid4()), role="CUSTOMER")


@pytest.fixture
def items() -> ItemsMock:
    mock = ItemsMock()
    mock.add("pen", 250, stock=1000)
    mock.add("ink", 1000, stock=1000)
    return mock


@pytest.fixture
async def service(cql: Cql, items: ItemsMock) -> AsyncIterator[OrderService]:
    with respx.mock(assert_all_called=False) as router:
        router.post(ITEMS_URL).mock(side_effect=items)
        async with httpx.AsyncClient() as http:
            client = ServiceClient(url=ITEMS_URL, caller="orders", secret="s" * 32, http=http)
            yield OrderService(cql.store, ItemsStock(client))


async def pending_types(cql: Cql, order_id: str) -> list[str]:
    return [m.type for m in await cql.outbox.pending(1000) if m.key == order_id]


async def test_the_readiness_ping_reads_the_engines_release_version(cql):
    assert (await ping(cql.session))[0].isdigit()


async def test_an_order_reads_back_as_it_was_written(service, cql):
    who = customer()
    order = await service.create_order(
        who,
        [LineRequest("pen", 2), LineRequest("ink", 1)],
        shipping_address=Address(line1="1 rue X", city="Lyon", country="FR"),
    )
    assert await cql.store.get(order.id) == order
    assert await cql.store.get(str(uuid.uuid4())) is None


async def test_an_older_orders_incomplete_address_reads_as_none_and_stays_stored(service, cql):
    """Before the one address rule, orders took any subset of the address fields: such an
    order still reads (without an address) and its row keeps what was given."""
    order = await service.create_order(customer(), [LineRequest("pen", 1)])
    order_id = uuid.UUID(order.id)
    older = {"city": "Oslo", "postal_code": "0150"}
    write = await cql.session.create_prepared(
        f"UPDATE {cql.keyspace}.orders SET shipping_address = ? WHERE order_id = ?"
    )
    await cql.session.execute(write.bind([older, order_id]))
    stored = await cql.store.get(order.id)
    assert stored == replace(order, shipping_address=None)
    read = await cql.session.create_prepared(
        f"SELECT shipping_address FROM {cql.keyspace}.orders WHERE order_id = ? LIMIT 1"
    )
    rows = await cql.session.execute(read.bind([order_id]))
    assert [r.column_value("shipping_address") for r in rows] == [older]


async def test_ten_concurrent_transitions_from_one_version_apply_exactly_once(service, cql):
    order = await service.create_order(customer(), [LineRequest("pen", 1)])
    now = datetime.now(UTC).replace(microsecond=0)

    async def attempt(n: int) -> bool:
        moved = order.moved_to(OrderStatus.CANCELLED, now, f"attempt {n}")
        event = order_cloud_event(OrderCancelled(moved, order.status, f"attempt {n}"), now)
        return await cql.store.transition(moved, order.version, event)

    results = await asyncio.gather(*(attempt(n) for n in range(10)))
    assert results.count(True) == 1
    stored = await cql.store.get(order.id)
    assert stored is not None
    assert stored.version == 2
    assert [h.status for h in stored.history] == [
        OrderStatus.PENDING_PAYMENT,
        OrderStatus.CANCELLED,
    ]
    assert await pending_types(cql, order.id) == ["order.created", "order.cancelled"]


async def test_concurrent_cancels_through_the_service_cancel_once_and_refuse_the_rest(service, cql):
    who = customer()
    order = await service.create_order(who, [LineRequest("pen", 1)])
    results = await asyncio.gather(
        *(service.cancel_order(who, order.id) for _ in range(10)), return_exceptions=True
    )
    ok = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(ok) == 1
    assert len(refused) == 9
    assert all(f"Order {order.id} is CANCELLED" in str(e) for e in refused)
    assert await pending_types(cql, order.id) == ["order.created", "order.cancelled"]


async def test_ten_concurrent_creates_with_one_key_make_one_order(service, cql, items):
    who = customer()
    orders = await asyncio.gather(
        *(
            service.create_order(who, [LineRequest("pen", 3)], idempotency_key="checkout-1")
            for _ in range(10)
        )
    )
    assert len({o.id for o in orders}) == 1
    assert items.reserve_calls() == 1
    assert items.stock["pen"] == 997
    ids = [k.order_id for k in await cql.store.customer_orders(who.account_id, 50, None)]
    assert ids == [orders[0].id]


async def test_a_key_given_up_by_its_order_is_freed_for_the_next_claim(cql):
    """``DELETE ... IF order_id = ?`` on a table with no clustering column (the key release
    of a createOrder that failed): only the holder frees the key."""
    who = str(uuid.uuid4())
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    at = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    later = at + timedelta(seconds=5)
    mine, theirs = KeyHolder(first, at, "f"), KeyHolder(second, later, "f")
    assert await cql.store.claim_idempotency_key(who, "k2", mine) == mine
    await cql.store.drop_idempotency_key(who, "k2", second)  # not the holder: no effect
    assert await cql.store.claim_idempotency_key(who, "k2", theirs) == mine
    await cql.store.drop_idempotency_key(who, "k2", first)
    assert await cql.store.claim_idempotency_key(who, "k2", theirs) == theirs


async def test_a_key_is_taken_over_only_from_the_holder_it_was_read_from(cql):
    """``UPDATE ... IF order_id = ?`` on the same table: of racing take-overs from one holder,
    exactly one wins, and the key then names it."""
    who = str(uuid.uuid4())
    stuck = str(uuid.uuid4())
    at = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    await cql.store.claim_idempotency_key(who, "k", KeyHolder(stuck, at, "f"))
    takers = [str(uuid.uuid4()) for _ in range(5)]
    later = at + timedelta(minutes=2)
    won = await asyncio.gather(
        *(
            cql.store.take_over_idempotency_key(who, "k", stuck, KeyHolder(t, later, "f"))
            for t in takers
        )
    )
    assert won.count(True) == 1
    winner = takers[won.index(True)]
    assert await cql.store.claim_idempotency_key(
        who, "k", KeyHolder(stuck, later, "f")
    ) == KeyHolder(winner, later, "f")
    assert not await cql.store.take_over_idempotency_key(
        who, "k", stuck, KeyHolder(stuck, later, "f")
    )
    assert not await cql.store.take_over_idempotency_key(
        who, "absent", stuck, KeyHolder(winner, later, "f")
    )


async def test_the_schema_adds_the_claim_time_to_an_idempotency_table_made_before_it(
    cql_engine,
):
    """An orders keyspace whose idempotency table predates ``claimed_at`` (with a claim in
    it): starting the service adds the columns, and the old claim reads as untimed and
    without a fingerprint (so a retry with its key is answered its order, as before)."""
    keyspace = f"orders_{uuid.uuid4().hex[:12]}"
    cluster = acsylla.create_cluster(
        ["127.0.0.1"], port=cql_engine, protocol_version=4, use_schema=False, log_level="error"
    )
    old = await cluster.create_session()
    try:
        for statement in [
            *schema_statements(keyspace)[:1],
            f"CREATE TABLE {keyspace}.idempotency (customer_id uuid, key text, order_id uuid, "
            "PRIMARY KEY ((customer_id, key))) WITH default_time_to_live = 86400",
            f"INSERT INTO {keyspace}.idempotency (customer_id, key, order_id) "
            "VALUES (6a3c3b1e-0c1e-4f7e-9a39-8f9c7c1e2d11, 'old', "
            "00000000-0000-0000-0000-000000000001)",
        ]:
            await old.execute(acsylla.create_statement(statement, timeout=30.0))
    finally:
        await old.close()
    for _ in range(2):  # applied at every start
        upgraded = await open_cql(cql_engine, keyspace)
        holder = await upgraded.store.claim_idempotency_key(
            "6a3c3b1e-0c1e-4f7e-9a39-8f9c7c1e2d11",
            "old",
            KeyHolder(str(uuid.uuid4()), datetime.now(UTC), "f"),
        )
        assert holder == KeyHolder("00000000-0000-0000-0000-000000000001", None)
        await upgraded.session.close()


async def test_the_schema_adds_headers_to_an_orders_table_made_before_them(cql_engine):
    """An orders keyspace whose table predates the events' ``headers`` column, with an event
    written then and not yet published: starting the service adds the column, the old event
    is relayed with no headers, and is marked published like any other."""
    keyspace = f"orders_{uuid.uuid4().hex[:12]}"
    order_id, event_id = str(uuid.uuid4()), str(uuid.uuid1())
    statements = schema_statements(keyspace)
    [orders_table] = [
        s for s in statements if s.startswith(f"CREATE TABLE IF NOT EXISTS {keyspace}.orders ")
    ]
    [hints_table] = [s for s in statements if f"{keyspace}.outbox_hints" in s]
    assert "headers map<text, text>," in orders_table
    cluster = acsylla.create_cluster(
        ["127.0.0.1"], port=cql_engine, protocol_version=4, use_schema=False, log_level="error"
    )
    old = await cluster.create_session()
    try:
        for statement in [
            statements[0],
            orders_table.replace("headers map<text, text>,", ""),
            hints_table,
            f"INSERT INTO {keyspace}.orders (order_id, row_kind, row_id, event_type, payload, "
            f"published) VALUES ({order_id}, 'event', {event_id}, 'order.created', "
            f'\'{{"id": "{event_id}"}}\', false)',
            f"INSERT INTO {keyspace}.outbox_hints (bucket, order_id, event_id) VALUES "
            f"({int(datetime.now(UTC).timestamp() // 3600)}, {order_id}, {event_id})",
        ]:
            await old.execute(acsylla.create_statement(statement, timeout=30.0))
    finally:
        await old.close()
    for _ in range(2):  # applied at every start
        upgraded = await open_cql(cql_engine, keyspace)
        pending = await upgraded.outbox.pending(10)
        assert [(m.id, m.key, m.headers) for m in pending] == [(event_id, order_id, {})]
        await upgraded.session.close()
    upgraded = await open_cql(cql_engine, keyspace)
    await upgraded.outbox.mark_published(pending)
    assert await upgraded.outbox.pending(10) == []
    await upgraded.session.close()


async def test_a_redelivered_payment_event_transitions_once(service, cql):
    order = await service.create_order(customer(), [LineRequest("pen", 1)])
    event_id = str(uuid.uuid4())

    def paid() -> Awaitable[bool]:
        return service.apply_payment(
            event_id, PaymentOutcome.SUCCEEDED, order.id, payment_id="p-1", amount=order.total
        )

    results = await asyncio.gather(*(paid() for _ in range(5)))
    results.append(await paid())
    assert results.count(True) == 1
    stored = await cql.store.get(order.id)
    assert stored is not None
    assert stored.status == OrderStatus.PAID
    assert stored.applied_events == {event_id, "payment:p-1"}
    assert await pending_types(cql, order.id) == ["order.created", "order.paid"]


async def test_update_replaces_the_lines(service, cql):
    who = customer()
    order = await service.create_order(who, [LineRequest("pen", 1), LineRequest("ink", 1)])
    await service.update_order(who, order.id, [LineRequest("ink", 4)])
    stored = await cql.store.get(order.id)
    assert stored is not None
    assert [(x.item_id, x.quantity) for x in stored.lines] == [("ink", 4)]
    assert stored.total.amount == 4000


async def test_published_events_leave_the_outbox(service, cql):
    order = await service.create_order(customer(), [LineRequest("pen", 1)])
    (message,) = [m for m in await cql.outbox.pending(100) if m.key == order.id]
    SCHEMAS.validate(json.loads(message.value))
    assert message.topic == "shop.order"
    await cql.outbox.mark_published([message])
    await cql.outbox.mark_published([message])
    assert await pending_types(cql, order.id) == []


async def test_a_hint_whose_event_was_never_written_is_dropped_after_the_grace(cql):
    cql.outbox.grace = timedelta(0)
    event_id = str(uuid.uuid1())
    order_id = str(uuid.uuid4())
    bucket = int(datetime.now(UTC).timestamp() // 3600)
    await cql.session.execute(
        (
            await cql.session.create_prepared(
                f"INSERT INTO {cql.keyspace}.outbox_hints (bucket, order_id, event_id) "
                "VALUES (?, ?, ?)"
            )
        ).bind([bucket, order_id, event_id])
    )
    assert await cql.outbox.pending(10) == []
    rows = await cql.session.execute(
        (
            await cql.session.create_prepared(
                f"SELECT event_id FROM {cql.keyspace}.outbox_hints WHERE bucket = ?"
            )
        ).bind([bucket])
    )
    assert [r.column_value("event_id") for r in rows] == []


async def test_customer_orders_page_newest_first(service, cql):
    who = customer()
    placed = []
    for _ in range(5):
        placed.append(await service.create_order(who, [LineRequest("pen", 1)]))
        await asyncio.sleep(0.002)
    seen: list[str] = []
    cursor = None
    for _ in range(3):
        page = await service.customer_orders(who, who.account_id, 2, cursor)
        seen += [o.id for o in page.nodes]
        cursor = page.end_cursor
        if not page.has_next_page:
            break
    assert seen == [o.id for o in reversed(placed)]


async def test_customer_orders_page_through_orders_placed_in_the_same_millisecond(cql):
    """Paging seeks by (created_at, order_id): orders of one millisecond are neither repeated
    nor skipped across a page boundary, and older ones follow them."""
    customer_id = str(uuid.uuid4())
    now = datetime(2031, 5, 1, 12, 0, tzinfo=UTC)
    same = sorted(str(uuid.uuid4()) for _ in range(5))
    older = str(uuid.uuid4())
    insert = await cql.session.create_prepared(
        f"INSERT INTO {cql.keyspace}.orders_by_customer (customer_id, created_at, order_id, "
        "status) VALUES (?, ?, ?, 'PAID')"
    )
    for order_id, at in [*((o, now) for o in same), (older, now - timedelta(seconds=1))]:
        await cql.session.execute(insert.bind([customer_id, at, order_id]))
    seen: list[str] = []
    after = None
    while True:
        keys = await cql.store.customer_orders(customer_id, 2, after)
        seen += [k.order_id for k in keys]
        if len(keys) < 2:
            break
        after = keys[-1]
    whole = [k.order_id for k in await cql.store.customer_orders(customer_id, 10, None)]
    assert seen == whole
    assert sorted(seen[:5]) == same
    assert seen[5] == older


async def test_a_transition_from_a_stale_version_does_not_apply(service, cql):
    order = await service.create_order(customer(), [LineRequest("pen", 1)])
    now = datetime.now(UTC)
    moved = replace(order.moved_to(OrderStatus.CANCELLED, now), version=7)
    event = order_cloud_event(OrderCancelled(moved, order.status, "x"), now)
    assert not await cql.store.transition(moved, 6, event)
    assert (await cql.store.get(order.id)) == order
