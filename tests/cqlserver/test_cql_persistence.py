"""With --data-dir, acknowledged writes survive a hard kill and restart."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, Session
from cassandra.policies import RoundRobinPolicy

from cqlserver.testing import free_port, start_cql_server, stop


def session_for(port: int):
    profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy())
    cluster = Cluster(["127.0.0.1"], port=port, protocol_version=4,
                      execution_profiles={EXEC_PROFILE_DEFAULT: profile})  # fmt: skip
    return cluster, cluster.connect()


@contextmanager
def server_session(data_dir: Path, *, crash: bool = False) -> Iterator[Session]:
    """A cqlserver over ``data_dir`` on a free port, and a driver session to it. ``crash``:
    killed at the end with no clean shutdown (acknowledged writes must already be on disk),
    else stopped as an operator stops it."""
    port = free_port()
    proc = start_cql_server(port, data_dir=str(data_dir))
    try:
        cluster, session = session_for(port)
        yield session
        cluster.shutdown()
    finally:
        if crash:
            proc.kill()
            proc.wait()
        else:
            stop(proc)


def create_keyspace_d(session: Session) -> None:
    session.execute("CREATE KEYSPACE d WITH replication = {'class': 'SimpleStrategy', "
                    "'replication_factor': 1}")  # fmt: skip


def test_data_survives_a_kill_and_restart(tmp_path):
    with server_session(tmp_path, crash=True) as s:
        create_keyspace_d(s)
        s.execute("CREATE TYPE d.money (amount bigint, currency text)")
        s.execute("CREATE TABLE d.t (k int, c int, v text, s set<int> STATIC, "
                  "price frozen<money>, PRIMARY KEY (k, c))")  # fmt: skip
        ins = s.prepare("INSERT INTO d.t (k, c, v, price) VALUES (?, ?, ?, ?)")
        for c in range(5):
            s.execute(ins, (1, c, f"v{c}", (c, "EUR")))
        s.execute("DELETE FROM d.t WHERE k = 1 AND c = 3")
        s.execute("UPDATE d.t SET s = {1} WHERE k = 1")
        assert s.execute("UPDATE d.t SET s = s + {2} WHERE k = 1 IF s = {1}").one().applied
    with server_session(tmp_path) as s:
        rows = list(s.execute("SELECT c, v, s, price FROM d.t WHERE k = 1"))
        assert [r.c for r in rows] == [0, 1, 2, 4]
        assert rows[0].s == {1, 2}
        assert rows[-1].v == "v4"
        assert rows[-1].price.amount == 4
        assert rows[-1].price.currency == "EUR"


def test_restart_compacts_the_log_and_keeps_writes_made_after_a_torn_final_line(tmp_path):
    log = tmp_path / "commitlog.jsonl"
    with server_session(tmp_path, crash=True) as s:
        create_keyspace_d(s)
        s.execute("CREATE TABLE d.t (k int, c int, v text, s int STATIC, PRIMARY KEY (k, c))")
        upd = s.prepare("UPDATE d.t SET v = ?, s = ? WHERE k = 1 AND c = ?")
        for i in range(50):
            s.execute(upd, (f"v{i}", i, i % 3))
        s.execute("DELETE FROM d.t WHERE k = 1 AND c = 1")
    assert len(log.read_text().splitlines()) == 53  # 2 DDL + 50 updates + 1 delete
    with log.open("a") as f:
        f.write('{"m": [{"t": "d.t", "op": "u')  # a crash in the middle of a write
    with server_session(tmp_path, crash=True) as s:
        # compacted at start (connecting writes nothing): the 2 DDL records and one record
        # for the one partition
        assert len(log.read_text().splitlines()) == 3
        assert not (tmp_path / "commitlog.jsonl.tmp").exists()
        s.execute("INSERT INTO d.t (k, c, v) VALUES (1, 7, 'after restart')")
    with server_session(tmp_path) as s:
        rows = list(s.execute("SELECT c, v, s FROM d.t WHERE k = 1"))
        assert [(r.c, r.v) for r in rows] == [(0, "v48"), (2, "v47"), (7, "after restart")]
        assert {r.s for r in rows} == {49}
