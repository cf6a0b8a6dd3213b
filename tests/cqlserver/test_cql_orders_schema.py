"""The orders service's schema and statement shapes, through acsylla prepared statements."""

from __future__ import annotations

import datetime as dt
import uuid

import acsylla
import pytest

from tests.support.cql import prepared


def rows(res):
    return [r.as_dict() for r in res]


@pytest.fixture
async def orders_ks(acs, keyspace):
    ks = keyspace
    for ddl in [
        f"""CREATE TABLE IF NOT EXISTS {ks}.orders (
  order_id uuid, row_kind text, row_id timeuuid,
  status text STATIC, version int STATIC, customer_id uuid STATIC, total_amount bigint STATIC,
  currency text STATIC, shipping_address map<text, text> STATIC, created_at timestamp STATIC,
  updated_at timestamp STATIC, applied_events set<uuid> STATIC,
  item_id text, quantity int, unit_amount bigint, reason text, event_type text, payload text,
  published boolean,
  PRIMARY KEY ((order_id), row_kind, row_id)
) WITH CLUSTERING ORDER BY (row_kind ASC, row_id ASC)""",
        f"CREATE TABLE IF NOT EXISTS {ks}.orders_by_customer (customer_id uuid, "
        "created_at timestamp, order_id uuid, status text, PRIMARY KEY ((customer_id), "
        "created_at, order_id)) WITH CLUSTERING ORDER BY (created_at DESC, order_id ASC)",
        f"CREATE TABLE IF NOT EXISTS {ks}.idempotency (customer_id uuid, key text, "
        "order_id uuid, PRIMARY KEY ((customer_id, key))) WITH default_time_to_live = 86400",
        f"CREATE TABLE IF NOT EXISTS {ks}.outbox_hints (bucket int, order_id uuid, "
        "PRIMARY KEY ((bucket), order_id))",
    ]:
        await acs.execute(acsylla.create_statement(ddl))
        await acs.execute(acsylla.create_statement(ddl))  # IF NOT EXISTS is a no-op
    return ks


async def create_order(acs, ks, oid, customer):
    now = dt.datetime(2024, 1, 1, 12, 0, 0)
    res = await prepared(
        acs,
        f"INSERT INTO {ks}.orders (order_id, row_kind, row_id, status, version, customer_id, "
        "total_amount, currency, shipping_address, created_at, updated_at, item_id, quantity, "
        "unit_amount) VALUES (?, ?, now(), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS",
        oid, "item", "PENDING", 1, customer, 500, "EUR", {"city": "Oslo"}, now, now,
        "sku-1", 2, 250,
    )  # fmt: skip
    return res.first().as_dict()


async def test_order_partition_reads_back_statics_with_each_row(acs, orders_ks):
    ks, oid, customer = orders_ks, uuid.uuid4(), uuid.uuid4()
    assert await create_order(acs, ks, oid, customer) == {"[applied]": True}
    got = rows(await prepared(acs, f"SELECT * FROM {ks}.orders WHERE order_id = ?", oid))
    assert len(got) == 1
    r = got[0]
    assert r["status"] == "PENDING"
    assert r["version"] == 1
    assert r["item_id"] == "sku-1"
    assert r["shipping_address"] == {"city": "Oslo"}
    assert r["row_kind"] == "item"
    assert str(r["customer_id"]) == str(customer)


async def test_static_only_partition_returns_one_row_with_null_clustering(acs, orders_ks):
    ks, oid = orders_ks, uuid.uuid4()
    await prepared(acs, f"UPDATE {ks}.orders SET status = ?, version = ? WHERE order_id = ?",
              "NEW", 1, oid)  # fmt: skip
    got = rows(await prepared(acs, f"SELECT order_id, row_kind, row_id, status FROM {ks}.orders "
                              "WHERE order_id = ?", oid))  # fmt: skip
    assert got == [{"order_id": got[0]["order_id"], "row_kind": None, "row_id": None,
                    "status": "NEW"}]  # fmt: skip


async def test_conditional_batch_on_static_version_applies_once(acs, orders_ks):
    ks, oid = orders_ks, uuid.uuid4()
    await create_order(acs, ks, oid, uuid.uuid4())
    upd = await acs.create_prepared(
        f"UPDATE {ks}.orders SET status=?, version=?, updated_at=? WHERE order_id=? IF version=?"
    )
    ins = await acs.create_prepared(
        f"INSERT INTO {ks}.orders (order_id,row_kind,row_id,event_type,payload,published) "
        "VALUES (?,?,?,?,?,?)"
    )

    async def transition(status):
        batch = acsylla.create_batch_logged()
        s1 = upd.bind()
        s1.bind_list([status, 2, dt.datetime(2024, 1, 2), oid, 1])
        s2 = ins.bind()
        s2.bind_list([oid, "event", uuid.uuid1(), status, "{}", False])
        batch.add_statement(s1)
        batch.add_statement(s2)
        return rows(await acs.execute_batch(batch))

    first = await transition("PAID")
    second = await transition("CANCELLED")
    assert first == [{"[applied]": True}]
    assert second == [{"[applied]": False, "order_id": second[0]["order_id"], "row_kind": None,
                       "row_id": None, "version": 2}]  # fmt: skip
    events = rows(await prepared(acs, f"SELECT event_type FROM {ks}.orders WHERE order_id = ? "
                                 "AND row_kind = ?", oid, "event"))  # fmt: skip
    assert events == [{"event_type": "PAID"}]


async def test_conditional_batch_spanning_partitions_is_refused(acs, orders_ks):
    ks = orders_ks
    batch = acsylla.create_batch_logged()
    p = await acs.create_prepared(f"UPDATE {ks}.orders SET status=? WHERE order_id=? IF version=?")
    for _ in range(2):
        st = p.bind()
        st.bind_list(["X", uuid.uuid4(), 1])
        batch.add_statement(st)
    with pytest.raises(acsylla.errors.CassErrorServerInvalidQuery) as e:
        await acs.execute_batch(batch)
    assert "Batch with conditions cannot span multiple partitions" in str(e.value)


async def test_applied_events_set_append_guarded_by_version(acs, orders_ks):
    ks, oid, ev = orders_ks, uuid.uuid4(), uuid.uuid4()
    await create_order(acs, ks, oid, uuid.uuid4())
    q = f"UPDATE {ks}.orders SET applied_events = applied_events + ? WHERE order_id=? IF version=?"
    assert rows(await prepared(acs, q, {ev}, oid, 1)) == [{"[applied]": True}]
    assert rows(await prepared(acs, q, {uuid.uuid4()}, oid, 7)) == [
        {"[applied]": False, "version": 1}
    ]
    cond = f"UPDATE {ks}.orders SET status=? WHERE order_id=? IF status = ? AND version IN ?"
    assert (
        rows(await prepared(acs, cond, "SHIPPED", oid, "PENDING", [1, 2]))[0]["[applied]"] is True
    )
    got = rows(await prepared(acs, f"SELECT applied_events, status FROM {ks}.orders WHERE order_id=?",
                         oid))  # fmt: skip
    assert {str(x) for x in got[0]["applied_events"]} == {str(ev)}
    assert got[0]["status"] == "SHIPPED"


async def test_orders_by_customer_pages_newest_first_and_in_queries(acs, orders_ks):
    ks, customer = orders_ks, uuid.uuid4()
    ins = f"INSERT INTO {ks}.orders_by_customer (customer_id, created_at, order_id, status) " \
          "VALUES (?, ?, ?, ?)"  # fmt: skip
    base = dt.datetime(2024, 1, 1)
    for i in range(30):
        await prepared(acs, ins, customer, base + dt.timedelta(minutes=i), uuid.uuid4(), "NEW")
    p = await acs.create_prepared(
        f"SELECT created_at FROM {ks}.orders_by_customer WHERE customer_id=? LIMIT ?"
    )
    st = p.bind(page_size=7)
    st.bind_list([customer, 20])
    got: list[dt.datetime] = []
    while True:
        res = await acs.execute(st)
        got.extend(r.as_dict()["created_at"].replace(tzinfo=None) for r in res)
        if not res.has_more_pages():
            break
        st.set_page_state(res.page_state())
    assert got == [base + dt.timedelta(minutes=29 - i) for i in range(20)]
    oids = [uuid.uuid4(), uuid.uuid4()]
    for o in oids:
        await create_order(acs, ks, o, customer)
    found = rows(await prepared(acs, f"SELECT order_id FROM {ks}.orders WHERE order_id IN ?", oids))
    assert sorted(str(r["order_id"]) for r in found) == sorted(str(o) for o in oids)
    distinct = rows(await prepared(acs, f"SELECT DISTINCT order_id FROM {ks}.orders"))
    assert {str(o) for o in oids} <= {str(r["order_id"]) for r in distinct}


async def test_idempotency_row_has_default_ttl_and_outbox_delete(acs, orders_ks):
    ks, customer, oid = orders_ks, uuid.uuid4(), uuid.uuid4()
    q = f"INSERT INTO {ks}.idempotency (customer_id, key, order_id) VALUES (?, ?, ?) IF NOT EXISTS"
    assert rows(await prepared(acs, q, customer, "k1", oid))[0]["[applied]"] is True
    again = rows(await prepared(acs, q, customer, "k1", uuid.uuid4()))[0]
    assert again["[applied]"] is False
    assert str(again["order_id"]) == str(oid)
    ttl = rows(await prepared(acs, f"SELECT TTL(order_id) FROM {ks}.idempotency WHERE customer_id=? "
                              "AND key=?", customer, "k1"))[0]  # fmt: skip
    assert 86000 < next(iter(ttl.values())) <= 86400
    await prepared(acs, f"INSERT INTO {ks}.outbox_hints (bucket, order_id) VALUES (?, ?)", 3, oid)
    await prepared(acs, f"DELETE FROM {ks}.outbox_hints WHERE bucket=? AND order_id=?", 3, oid)
    assert rows(await prepared(acs, f"SELECT * FROM {ks}.outbox_hints WHERE bucket=?", 3)) == []
