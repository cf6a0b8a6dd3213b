"""The DataStax cassandra-driver as a second real client: metadata, literals, errors, paging."""

from __future__ import annotations

import uuid

import pytest
from cassandra import AlreadyExists, InvalidRequest
from cassandra.concurrent import execute_concurrent_with_args
from cassandra.protocol import SyntaxException
from cassandra.query import BatchStatement, SimpleStatement


def test_driver_reads_schema_metadata_of_created_tables(pycluster, pysession, keyspace):
    pysession.execute(
        f"CREATE TABLE {keyspace}.m (p uuid, c1 text, c2 int, s int STATIC, v list<int>, "
        "PRIMARY KEY ((p), c1, c2)) WITH CLUSTERING ORDER BY (c1 DESC, c2 ASC)"
    )
    pycluster.refresh_table_metadata(keyspace, "m")
    table = pycluster.metadata.keyspaces[keyspace].tables["m"]
    assert [c.name for c in table.partition_key] == ["p"]
    assert [c.name for c in table.clustering_key] == ["c1", "c2"]
    assert table.columns["s"].is_static
    assert table.columns["c1"].is_reversed
    assert table.columns["v"].cql_type == "list<int>"


def test_cql_literals_round_trip(pysession, keyspace):
    pysession.execute(
        f"CREATE TABLE {keyspace}.lit (k uuid PRIMARY KEY, t text, n bigint, d double, b boolean,"
        " tu timeuuid, ts timestamp, l list<text>, s set<int>, m map<text, int>, bl blob)"
    )
    k = uuid.uuid4()
    pysession.execute(
        f"INSERT INTO {keyspace}.lit (k, t, n, d, b, tu, ts, l, s, m, bl) VALUES ({k}, 'it''s', "
        "-42, 1.25e2, true, now(), toTimestamp(now()), ['a', 'b'], {3, 1, 2}, {'x': 1}, 0xcafe)"
    )
    pysession.execute(f"UPDATE {keyspace}.lit SET l = l + ['c'], s = s - {{2}}, m['y'] = 2 "
                      f"WHERE k = {k}")  # fmt: skip
    row = pysession.execute(f"SELECT * FROM {keyspace}.lit WHERE k = {k}").one()
    assert row.t == "it's"
    assert row.n == -42
    assert row.d == 125.0
    assert row.b is True
    assert row.tu.version == 1
    assert row.ts.year >= 2024
    assert row.l == ["a", "b", "c"]
    assert row.s == {1, 3}
    assert row.m == {"x": 1, "y": 2}
    assert row.bl == b"\xca\xfe"


def test_syntax_error_keeps_connection_usable(pysession):
    with pytest.raises(SyntaxException):
        pysession.execute("SELECT FROM WHERE")
    assert pysession.execute("SELECT key FROM system.local").one().key == "local"


def test_refusals_match_cassandra(pysession, keyspace):
    pysession.execute(f"CREATE TABLE {keyspace}.r (p int, c int, v int, PRIMARY KEY (p, c))")
    cases = {
        f"SELECT * FROM {keyspace}.r WHERE v = 1": "use ALLOW FILTERING",
        f"SELECT * FROM {keyspace}.r WHERE c = 1": "use ALLOW FILTERING",
        f"SELECT * FROM {keyspace}.r WHERE p = 1 ORDER BY v": "only supported on the clustered",
        f"UPDATE {keyspace}.r SET v = 1 WHERE c = 1": "Some partition key parts are missing: p",
        f"INSERT INTO {keyspace}.r (p, v) VALUES (1, 1)": "Some clustering keys are missing: c",
        f"SELECT * FROM {keyspace}.nope": "unconfigured table nope",
        f"SELECT zz FROM {keyspace}.r": "Undefined column name zz",
        f"BEGIN BATCH UPDATE {keyspace}.r SET v = 1 WHERE p = 1 AND c = 1 IF v = 1; "
        f"UPDATE {keyspace}.r SET v = 1 WHERE p = 2 AND c = 1; APPLY BATCH": (
            "Batch with conditions cannot span multiple partitions"
        ),
    }
    for cql, message in cases.items():
        with pytest.raises(InvalidRequest) as e:
            pysession.execute(cql)
        assert message in str(e.value), cql
    with pytest.raises(AlreadyExists):
        pysession.execute(f"CREATE KEYSPACE {keyspace} WITH replication = "
                          "{'class': 'SimpleStrategy', 'replication_factor': 1}")  # fmt: skip
    rows = pysession.execute(f"SELECT * FROM {keyspace}.r WHERE v = 1 ALLOW FILTERING")
    assert list(rows) == []


def test_paging_over_ten_thousand_rows_returns_each_row_once(pysession, keyspace):
    pysession.execute(f"CREATE TABLE {keyspace}.big (p int, c int, v text, PRIMARY KEY (p, c))")
    ins = pysession.prepare(f"INSERT INTO {keyspace}.big (p, c, v) VALUES (?, ?, ?)")
    results = execute_concurrent_with_args(
        pysession, ins, [(1, i, f"v{i}") for i in range(10_000)], concurrency=64
    )
    assert all(ok for ok, _ in results)
    stmt = SimpleStatement(f"SELECT c FROM {keyspace}.big WHERE p = 1", fetch_size=700)
    seen = [r.c for r in pysession.execute(stmt)]
    assert seen == list(range(10_000))
    count = pysession.execute(f"SELECT COUNT(*) FROM {keyspace}.big WHERE p = 1").one()
    assert count.count == 10_000


def test_clustering_ranges_order_by_and_limits(pysession, keyspace):
    pysession.execute(f"CREATE TABLE {keyspace}.ts (p int, c int, v int, PRIMARY KEY (p, c))")
    ins = pysession.prepare(f"INSERT INTO {keyspace}.ts (p, c, v) VALUES (?, ?, ?)")
    for p in (1, 2):
        for c in range(10):
            pysession.execute(ins, (p, c, c * 10))
    q = f"SELECT c FROM {keyspace}.ts WHERE p = 1 AND c >= 3 AND c < 7 ORDER BY c DESC"
    assert [r.c for r in pysession.execute(q)] == [6, 5, 4, 3]
    q = f"SELECT p, c FROM {keyspace}.ts WHERE p IN (1, 2) PER PARTITION LIMIT 2"
    assert [(r.p, r.c) for r in pysession.execute(q)] == [(1, 0), (1, 1), (2, 0), (2, 1)]
    q = f"SELECT DISTINCT p FROM {keyspace}.ts"
    assert sorted(r.p for r in pysession.execute(q)) == [1, 2]
    pysession.execute(f"DELETE FROM {keyspace}.ts WHERE p = 1 AND c > 7")
    assert [r.c for r in pysession.execute(f"SELECT c FROM {keyspace}.ts WHERE p = 1 LIMIT 100")
            ][-1] == 7  # fmt: skip


def test_unlogged_batch_and_use_keyspace(pycluster, keyspace):
    session = pycluster.connect(keyspace)
    session.execute("CREATE TABLE u (k int PRIMARY KEY, v text)")
    ins = session.prepare("INSERT INTO u (k, v) VALUES (?, ?)")
    batch = BatchStatement()
    for i in range(5):
        batch.add(ins, (i, str(i)))
    session.execute(batch)
    assert sorted(r.k for r in session.execute("SELECT k FROM u")) == [0, 1, 2, 3, 4]
    res = session.execute("DELETE FROM u WHERE k = 1 IF EXISTS")
    assert res.one().applied is True
    assert session.execute("DELETE FROM u WHERE k = 1 IF EXISTS").one().applied is False
    session.shutdown()
