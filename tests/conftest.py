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
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from stack import engines
from stack.process import Process, StartError, free_port

ROOT = Path(__file__).resolve().parents[1]

# The JVMs of the tests' Kafka and Cassandra compile with C1 only: each lives minutes under a
# light load, where C2's optimisations never pay for their compiling (a start on a quiet
# machine: Cassandra 10.6 -> 6.6 s of CPU, Kafka with its storage format 6.4 -> 4.0 s).
os.environ.setdefault(engines.JVM_OPTIONS, "-XX:TieredStopAtLevel=1")

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
# The store tests that pick their engine by parameter (request.getfixturevalue): the parameter
# and the fixture that starts that engine.
ENGINE_OF_PARAM = {
    "mongo": "mongo_url",
    "cassandra": "cassandra_port",
    "mariadb": "mysql_server",
    "cqlserver": "cql_port",
}
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


def _engine_params(item: pytest.Item) -> set[str]:
    """The engines a test names by parameter (ENGINE_OF_PARAM's keys)."""
    callspec = getattr(item, "callspec", None)
    params = callspec.params.values() if callspec else ()
    return {p for p in params if isinstance(p, str) and p in ENGINE_OF_PARAM}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = item.path.relative_to(ROOT).as_posix()
        if (
            ENGINE_FIXTURES & set(getattr(item, "fixturenames", ()))
            or _engine_params(item)
            or module.startswith(ENGINE_MODULES)
        ):
            item.add_marker(pytest.mark.engine)


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@dataclass(frozen=True)
class _Engine:
    """How an engine fixture's server starts: ``start(port, data_dir, logs_dir, **ports)`` (the
    signature of ``stack.engines``' starters), with a data folder of its own or none, and the
    other free ports it needs."""

    start: Callable[..., Process]
    keeps_data: bool = False
    other_ports: tuple[str, ...] = ()


ENGINES = {
    "mongo_url": _Engine(engines.start_mongo),
    "kafka_bootstrap": _Engine(engines.start_kafka, True, ("controller_port",)),
    "cassandra_port": _Engine(engines.start_cassandra, True, ("storage_port",)),
    "mysql_server": _Engine(engines.start_mysql, True),
    "cql_port": _Engine(engines.start_cql),
}


class _Engines:
    """The session's engines, each started once in a thread of its own and stopped side by side
    when the session ends. What the collected tests will ask for is started as the session
    begins (``ahead``): Cassandra takes about 10 s and Kafka 5, and they come up while the
    first tests run instead of when a test first waits for them."""

    def __init__(self, logs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.logs_dir = logs_dir
        self.tmp_path_factory = tmp_path_factory
        self.threads = ThreadPoolExecutor(max_workers=len(ENGINES), thread_name_prefix="engine")
        self.started: dict[str, Future[tuple[Process, int]]] = {}

    def ahead(self, items: Iterable[pytest.Item]) -> None:
        wanted: set[str] = set()
        for item in items:
            wanted |= ENGINES.keys() & set(getattr(item, "fixturenames", ()))
            wanted |= {ENGINE_OF_PARAM[param] for param in _engine_params(item)}
        if os.environ.get("MYSQL_URL"):
            wanted.discard("mysql_server")
        for name in sorted(wanted):
            self._start(name)

    def _start(self, name: str) -> Future[tuple[Process, int]]:
        if name not in self.started:
            engine = ENGINES[name]
            data_dir = self.tmp_path_factory.mktemp(name) if engine.keeps_data else None
            ports = {port: free_port() for port in engine.other_ports}

            def start() -> tuple[Process, int]:
                port = free_port()
                return engine.start(port, data_dir, self.logs_dir, **ports), port

            self.started[name] = self.threads.submit(start)
        return self.started[name]

    def port(self, name: str) -> int:
        """The port of the fixture ``name``'s engine, once it is up."""
        if os.environ.get("SHOP_TESTS_UNIT"):
            pytest.fail(
                "a test of the fast tier (make test-unit) needs an engine: add the fixture that "
                "starts it to ENGINE_FIXTURES in tests/conftest.py",
                pytrace=False,
            )
        try:
            _, port = self._start(name).result()
        except StartError as exc:
            pytest.fail(f"could not start a real engine: {exc}", pytrace=False)
        return port

    def stop(self) -> None:
        """Kills them: their data folders are the session's temporary ones, and stopping them
        gracefully (Cassandra flushes its memtables) takes seconds for data nobody reads."""
        running = [f.result()[0] for f in self.started.values() if not f.exception()]
        list(self.threads.map(lambda proc: proc.kill(), running))
        self.threads.shutdown()


@pytest.fixture(scope="session", autouse=True)
def _engines(
    request: pytest.FixtureRequest, logs_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[_Engines]:
    started = _Engines(logs_dir, tmp_path_factory)
    if not os.environ.get("SHOP_TESTS_UNIT"):
        started.ahead(request.session.items)
    yield started
    started.stop()


@pytest.fixture(scope="session")
def mongo_url(_engines: _Engines) -> str:
    return f"mongodb://127.0.0.1:{_engines.port('mongo_url')}/?directConnection=true"


@pytest.fixture(scope="session")
def kafka_bootstrap(_engines: _Engines) -> str:
    """Apache Kafka (KRaft, one node): ``host:port``."""
    return f"127.0.0.1:{_engines.port('kafka_bootstrap')}"


@pytest.fixture(scope="session")
def cassandra_port(_engines: _Engines) -> int:
    """Apache Cassandra 5.0 (one node): its native-protocol port on 127.0.0.1."""
    return _engines.port("cassandra_port")


@pytest.fixture(scope="session")
def mysql_server(_engines: _Engines) -> str:
    """A MySQL-protocol server URL without a database: ``mysql+aiomysql://root@127.0.0.1:P``."""
    given = os.environ.get("MYSQL_URL")
    if given:
        return given.rstrip("/")
    return f"mysql+aiomysql://root@127.0.0.1:{_engines.port('mysql_server')}"


@pytest.fixture
def mysql_url(mysql_server: str) -> str:
    """A fresh, empty database on the MySQL server, for one test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    engines.mysql_execute(mysql_server, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    return f"{mysql_server}/{name}"


@pytest.fixture(scope="session")
def cql_port(_engines: _Engines) -> int:
    """This project's cqlserver, in memory: its native-protocol port on 127.0.0.1."""
    return _engines.port("cql_port")
