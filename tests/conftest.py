"""Fixtures shared by every test suite: the real engines, started once per test session.

Each engine is a real server on a free port (see ``stack.engines``): Apache Kafka, Apache
Cassandra, SecantusDB (MongoDB protocol), MariaDB, and this project's cqlserver (whose own
tests, and the orders store tests, run against it beside Cassandra). If one cannot start, the
tests that need it fail with a message saying how to get it; nothing is skipped.
For MySQL, ``MYSQL_URL`` (``mysql+aiomysql://user:pw@host:port``) selects an existing server;
otherwise a throwaway MariaDB is started on a temporary data directory.
"""

from __future__ import annotations

import gc
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from stack import engines
from stack.process import Process, StartError, free_port

ROOT = Path(__file__).resolve().parents[1]

# The fast tier. A test is marked ``engine`` when it needs a real server or another process:
# one of its fixtures (directly or through others) starts one, or its parameter names an
# engine (fixtures that pick theirs with request.getfixturevalue). ``make test-unit`` runs the
# others (``-m "not engine and not e2e"``, SHOP_TESTS_UNIT=1), and there an engine fixture
# fails the test instead of starting a server, so the tier cannot quietly grow slow.
ENGINE_FIXTURES = frozenset(
    {"mongo_url", "kafka_bootstrap", "cassandra_port", "mysql_server", "mysql_url", "cql_port"}
    | {"keys", "stub_subgraph", "supergraph", "gateway", "shop"}  # Node gateway, whole stacks
    | {"cql_engine", "server", "connect", "taken_port"}  # cqlserver, SecantusDB, processes
)
ENGINE_PARAMS = frozenset({"mariadb", "mongo", "cassandra", "cqlserver"})
# Tests that start an engine or the Node gateway themselves, without a fixture.
ENGINE_MODULES = (
    "tests/gateway/",
    "tests/stack/test_engines.py",
    "tests/stack/test_schema.py",
    "tests/cqlserver/test_cql_persistence.py",
)


def pytest_collection(session: pytest.Session) -> None:
    """No cyclic garbage collection while collecting: importing every test module, the apps
    and their libraries creates some 350,000 long-lived objects, and the collector walked
    them all again and again (1.2 s of the fast tier's 13 s of CPU)."""
    gc.disable()


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection imported lives as long as the session: freezing it keeps each later
    collection, and pytest's five at the end of the session, to what the tests create
    (together 1.4 s less). The tests run with the collector on, as always."""
    gc.freeze()
    gc.enable()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = {p for p in callspec.params.values() if isinstance(p, str)} if callspec else set()
        module = item.path.relative_to(ROOT).as_posix()
        if (
            ENGINE_FIXTURES & set(getattr(item, "fixturenames", ()))
            or ENGINE_PARAMS & params
            or module.startswith(ENGINE_MODULES)
        ):
            item.add_marker(pytest.mark.engine)


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@contextmanager
def _serving(
    start: Callable[..., Process], logs_dir: Path, data_dir: Path | None = None, **ports: int
) -> Iterator[int]:
    """An engine on a free port, started as ``start(port, data_dir, logs_dir, **ports)`` (the
    signature of ``stack.engines``' starters) and stopped when the block ends: its port. The
    fixtures below serve from inside the block, so their engine lives as long as they do."""
    if os.environ.get("SHOP_TESTS_UNIT"):
        pytest.fail(
            "a test of the fast tier (make test-unit) needs an engine: add the fixture that "
            "starts it to ENGINE_FIXTURES in tests/conftest.py",
            pytrace=False,
        )
    port = free_port()
    try:
        proc = start(port, data_dir, logs_dir, **ports)
    except StartError as exc:
        pytest.fail(f"could not start a real engine: {exc}", pytrace=False)
    try:
        yield port
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def mongo_url(logs_dir: Path) -> Iterator[str]:
    with _serving(engines.start_mongo, logs_dir) as port:
        yield f"mongodb://127.0.0.1:{port}/?directConnection=true"


@pytest.fixture(scope="session")
def kafka_bootstrap(logs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Apache Kafka (KRaft, one node): ``host:port``."""
    data_dir = tmp_path_factory.mktemp("kafka")
    with _serving(engines.start_kafka, logs_dir, data_dir, controller_port=free_port()) as port:
        yield f"127.0.0.1:{port}"


@pytest.fixture(scope="session")
def cassandra_port(logs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """Apache Cassandra 5.0 (one node): its native-protocol port on 127.0.0.1."""
    data_dir = tmp_path_factory.mktemp("cassandra")
    with _serving(engines.start_cassandra, logs_dir, data_dir, storage_port=free_port()) as port:
        yield port


@pytest.fixture(scope="session")
def mysql_server(logs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A MySQL-protocol server URL without a database: ``mysql+aiomysql://root@127.0.0.1:P``."""
    given = os.environ.get("MYSQL_URL")
    if given:
        yield given.rstrip("/")
        return
    with _serving(engines.start_mysql, logs_dir, tmp_path_factory.mktemp("mariadb")) as port:
        yield f"mysql+aiomysql://root@127.0.0.1:{port}"


@pytest.fixture
def mysql_url(mysql_server: str) -> str:
    """A fresh, empty database on the MySQL server, for one test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    engines.mysql_execute(mysql_server, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    return f"{mysql_server}/{name}"


@pytest.fixture(scope="session")
def cql_port(logs_dir: Path) -> Iterator[int]:
    """This project's cqlserver, in memory: its native-protocol port on 127.0.0.1."""
    with _serving(engines.start_cql, logs_dir) as port:
        yield port
