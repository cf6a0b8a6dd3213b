"""The real acsylla driver against the server: DDL, prepared statements, paging, LWT, types."""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import ipaddress
import uuid

import acsylla
import pytest

from tests.support.cql import prepared

VARINT = (10**30).to_bytes(13, "big", signed=True)  # acsylla binds varints as raw bytes


async def run(session, cql: str, *values, page_size=None):
    st = acsylla.create_statement(cql, parameters=len(values), page_size=page_size)
    if values:
        st.bind_list(list(values))
    return await session.execute(st)


async def test_acsylla_creates_schema_inserts_prepared_and_reads_back_in_pages(acs, keyspace):
    await run(
        acs,
        f"CREATE TABLE IF NOT EXISTS {keyspace}.events (stream uuid, kind text, seq int, "
        "body text, PRIMARY KEY ((stream), kind, seq)) WITH CLUSTERING ORDER BY (kind ASC, "
        "seq DESC)",
    )
    stream = uuid.uuid4()
    insert = await acs.create_prepared(
        f"INSERT INTO {keyspace}.events (stream, kind, seq, body) VALUES (?, ?, ?, ?)"
    )
    for i in range(250):
        st = insert.bind()
        st.bind_list([stream, "a" if i % 2 else "b", i, f"body {i}"])
        await acs.execute(st)
    select = await acs.create_prepared(
        f"SELECT kind, seq, body FROM {keyspace}.events WHERE stream = ?"
    )
    st = select.bind(page_size=40)
    st.bind_list([stream])
    seen: list[tuple[str, int]] = []
    pages = 0
    while True:
        res = await acs.execute(st)
        pages += 1
        seen.extend((r.as_dict()["kind"], r.as_dict()["seq"]) for r in res)
        if not res.has_more_pages():
            break
        st.set_page_state(res.page_state())
    assert pages == 7
    odd = sorted((i for i in range(250) if i % 2), reverse=True)
    even = sorted((i for i in range(250) if not i % 2), reverse=True)
    assert seen == [("a", i) for i in odd] + [("b", i) for i in even]


async def test_racing_conditional_updates_apply_exactly_once(acs, keyspace):
    await run(acs, f"CREATE TABLE {keyspace}.orders (id uuid PRIMARY KEY, status text, owner int)")
    oid = uuid.uuid4()
    await run(acs, f"INSERT INTO {keyspace}.orders (id, status) VALUES (?, 'PENDING')", oid)
    upd = await acs.create_prepared(
        f"UPDATE {keyspace}.orders SET status = 'PAID', owner = ? WHERE id = ? IF status = ?"
    )

    async def attempt(n):
        st = upd.bind()
        st.bind_list([n, oid, "PENDING"])
        res = await acs.execute(st)
        return res.first().as_dict()

    results = await asyncio.gather(*(attempt(n) for n in range(50)))
    winners = [r for r in results if r["[applied]"]]
    losers = [r for r in results if not r["[applied]"]]
    assert len(winners) == 1
    assert len(losers) == 49
    assert all(r == {"[applied]": False, "status": "PAID"} for r in losers)
    row = (await prepared(acs, f"SELECT owner FROM {keyspace}.orders WHERE id = ?", oid)).first()
    assert row.as_dict()["owner"] in range(50)


async def test_insert_if_not_exists_returns_existing_row_when_not_applied(acs, keyspace):
    await run(acs, f"CREATE TABLE {keyspace}.kv (k text PRIMARY KEY, v int, w text)")
    q = f"INSERT INTO {keyspace}.kv (k, v) VALUES (?, ?) IF NOT EXISTS"
    first = (await prepared(acs, q, "a", 1)).first().as_dict()
    second = (await prepared(acs, q, "a", 2)).first().as_dict()
    assert first == {"[applied]": True}
    assert second == {"[applied]": False, "k": "a", "v": 1, "w": None}


async def test_every_type_round_trips_through_prepared_statements(acs, keyspace):
    await run(acs, f"CREATE TYPE {keyspace}.addr (street text, zip int)")
    await run(
        acs,
        f"CREATE TABLE {keyspace}.everything (k int PRIMARY KEY, t text, a ascii, bi bigint, "
        "si smallint, ti tinyint, b boolean, d double, f float, dec decimal, vi varint, u uuid, "
        "tu timeuuid, ts timestamp, da date, tm time, bl blob, ip inet, l list<int>, "
        "s set<text>, m map<text, int>, fl frozen<list<text>>, ad frozen<addr>)",
    )
    tu = uuid.uuid1()
    u = uuid.uuid4()
    ts = dt.datetime(2024, 5, 6, 7, 8, 9, 123000)
    values = [
        1, "héllo", "ascii", 2**40, -300, -7, True, 1.5, 2.5, decimal.Decimal("12.345"),
        VARINT, u, tu, ts, dt.date(2021, 2, 3), dt.time(4, 5, 6), b"\x00\x01",
        ipaddress.ip_address("10.1.2.3"), [3, 1, 2], {"y", "x"}, {"b": 2, "a": 1}, ["p", "q"],
        {"street": "Main", "zip": 12345},
    ]  # fmt: skip
    cols = "k, t, a, bi, si, ti, b, d, f, dec, vi, u, tu, ts, da, tm, bl, ip, l, s, m, fl, ad"
    marks = ", ".join("?" * len(values))
    await prepared(acs, f"INSERT INTO {keyspace}.everything ({cols}) VALUES ({marks})", *values)
    row = (await prepared(acs, f"SELECT * FROM {keyspace}.everything WHERE k = ?", 1)).first()
    got = row.as_dict()
    assert got["t"] == "héllo"
    assert got["a"] == "ascii"
    assert got["bi"] == 2**40
    assert got["si"] == -300
    assert got["ti"] == -7
    assert got["b"] is True
    assert got["d"] == 1.5
    assert got["f"] == 2.5
    assert got["dec"] == decimal.Decimal("12.345")
    assert got["vi"] in (VARINT, 10**30)
    assert str(got["u"]) == str(u)
    assert str(got["tu"]) == str(tu)
    assert got["ts"].replace(tzinfo=None) == ts
    assert got["da"] == dt.date(2021, 2, 3)
    assert got["tm"] == dt.time(4, 5, 6)
    assert got["bl"] == b"\x00\x01"
    assert str(got["ip"]) == "10.1.2.3"
    assert got["l"] == [3, 1, 2]
    assert got["s"] == {"x", "y"}
    assert got["m"] == {"a": 1, "b": 2}
    assert got["fl"] == ["p", "q"]
    assert dict(got["ad"]) == {"street": "Main", "zip": 12345}


async def test_null_and_unset_bound_values_behave_like_cassandra(acs, keyspace):
    await run(acs, f"CREATE TABLE {keyspace}.n (k int PRIMARY KEY, a text, b text)")
    await prepared(acs, f"INSERT INTO {keyspace}.n (k, a, b) VALUES (?, ?, ?)", 1, "x", "y")
    p = await acs.create_prepared(f"INSERT INTO {keyspace}.n (k, a, b) VALUES (?, ?, ?)")
    st = p.bind()
    st.bind(0, 1)
    st.bind(1, None)  # null: deletes a; b is left unset and keeps its value
    await acs.execute(st)
    row = (await prepared(acs, f"SELECT a, b FROM {keyspace}.n WHERE k = ?", 1)).first()
    assert row.as_dict() == {"a": None, "b": "y"}


async def test_bad_cql_is_a_syntax_error_and_the_session_stays_usable(acs, keyspace):
    with pytest.raises(acsylla.errors.CassErrorServerSyntaxError):
        await run(acs, "SELEC * FROM nowhere")
    res = await run(acs, "SELECT release_version FROM system.local")
    assert res.first().as_dict()["release_version"].startswith("3.")


async def test_invalid_queries_are_refused_with_cassandra_messages(acs, keyspace):
    await run(acs, f"CREATE TABLE {keyspace}.t (p int, c int, v int, PRIMARY KEY (p, c))")
    with pytest.raises(acsylla.errors.CassErrorServerInvalidQuery) as e:
        await run(acs, f"SELECT * FROM {keyspace}.t WHERE v = 1")
    assert "ALLOW FILTERING" in str(e.value)
    with pytest.raises(acsylla.errors.CassErrorServerAlreadyExists):
        await run(acs, f"CREATE TABLE {keyspace}.t (p int PRIMARY KEY)")


async def test_alter_table_add_if_not_exists_skips_existing_columns_as_cassandra_does(
    acs, keyspace
):
    """Checked against Apache Cassandra 5.0: ``IF EXISTS`` / ``IF NOT EXISTS`` make ALTER
    TABLE ADD idempotent (schema.cql of orders relies on it), and without them a column that
    exists or a table that does not are refused with Cassandra's messages."""
    await run(acs, f"CREATE TABLE {keyspace}.t (a int, b text, PRIMARY KEY ((a, b)))")
    for _ in range(2):
        await run(acs, f"ALTER TABLE {keyspace}.t ADD IF NOT EXISTS c timestamp")
    await run(acs, f"ALTER TABLE IF EXISTS {keyspace}.t ADD IF NOT EXISTS (c timestamp, d int)")
    await run(acs, f"ALTER TABLE {keyspace}.t ADD IF NOT EXISTS a int")
    await run(acs, f"ALTER TABLE IF EXISTS {keyspace}.nope ADD x int")
    columns = await run(
        acs,
        "SELECT column_name FROM system_schema.columns WHERE keyspace_name = ? "
        "AND table_name = 't'",
        keyspace,
    )
    assert sorted(r.as_dict()["column_name"] for r in columns) == ["a", "b", "c", "d"]
    for cql, message in [
        (f"ALTER TABLE {keyspace}.t ADD c int", "Column with name 'c' already exists"),
        (f"ALTER TABLE {keyspace}.t ADD a int", "Column with name 'a' already exists"),
        (f"ALTER TABLE {keyspace}.t ADD (e int, e int)", "Column with name 'e' already exists"),
        (f"ALTER TABLE {keyspace}.nope ADD x int", f"Table '{keyspace}.nope' doesn't exist"),
    ]:
        with pytest.raises(acsylla.errors.CassErrorServerInvalidQuery) as e:
            await run(acs, cql)
        assert message in str(e.value)
    await run(acs, f"INSERT INTO {keyspace}.t (a, b, c, d) VALUES (1, 'x', 0, 4)")
    row = (await run(acs, f"SELECT d FROM {keyspace}.t WHERE a = 1 AND b = 'x'")).first()
    assert row.as_dict() == {"d": 4}
