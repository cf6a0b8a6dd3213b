"""The whole shop on one machine: engines, the four subgraphs and the gateway.

``make up`` runs it on the standard ports with data under ``.data/`` (kept across restarts);
the end-to-end tests run it on free ports with a temporary data directory. Everything is a
child process, stopped in reverse order.

Two sets of engines (``ENGINES``): ``light`` (the default, up in seconds) runs orders on this
project's ``cqlserver``; ``real`` runs it on Apache Cassandra. Both run Apache Kafka, SecantusDB
for the MongoDB protocol, and MariaDB for the MySQL protocol (payments and accounts): a server of
the stack's own under ``<data dir>/mariadb``, or the one ``mysql_server`` names (``MYSQL_URL``;
the tests share one). The services can run on SQLite files too, but no stack does: the books
and the locks they are written under are those of the MySQL engine they are built for.
Payments and accounts talk to a card processor of their own process (``stack/
fake_processor.py``), whose books outlive a crash of either and can be compared with the shop's.
"""

from __future__ import annotations

import functools
import os
import secrets
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from stack import engines
from stack.fake_processor import start_fake_processor
from stack.gateway import compose_supergraph, start_gateway
from stack.process import (
    Process,
    StartError,
    http_ok,
    make_private,
    port_open,
    private_dir,
    private_file,
    spawn,
    write_private,
)

SUBGRAPHS = ("items", "orders", "payments", "accounts")
ENGINE_PROCESSES = ("mysql", "mongo", "kafka", "cql", "processor")  # what the subgraphs depend on
Engines = Literal["light", "real"]
DEV_ADMIN_EMAIL = "admin@shop.local"
DEV_ADMIN_PASSWORD = "admin-password-change-me"
# The databases of payments and accounts on the stack's MariaDB (a test stack adds a suffix).
PAYMENTS_DATABASE = "shop_payments"
ACCOUNTS_DATABASE = "shop_accounts"


# Generated into <data dir>/secrets.env unless set: the services' shared secrets, and the root
# password of the stack's own MariaDB (which no service but payments and accounts, through
# their database URLs, is given).
SERVICE_SECRETS = ("SHOP_GATEWAY_SECRET", "SHOP_SERVICE_SECRET", "SHOP_PROCESSOR_API_KEY")
MYSQL_PASSWORD = "SHOP_MYSQL_PASSWORD"


def read_secrets(path: Path) -> dict[str, str]:
    """The ``NAME=value`` lines of a stack's ``secrets.env`` (none if it has none yet)."""
    if not path.exists():
        return {}
    return dict(line.split("=", 1) for line in path.read_text().split() if "=" in line)


def local_mysql_url(port: int, password: str) -> str:
    """The stack's own MariaDB, as root (no database in the URL)."""
    return f"mysql+aiomysql://root:{quote(password, safe='')}@127.0.0.1:{port}"


KEEP_ALIVE_SECONDS = 75  # longer than the gateway's (Node: 5 s) and the services' (httpx: 5 s)


def uvicorn_command(app_factory: str, port: int) -> list[str]:
    """How a subgraph is served: one uvicorn worker on uvloop with the httptools parser (both
    C; the asyncio loop and h11 in pure Python cost a subgraph a large part of its CPU), as in
    compose.yml. The benchmark serves its bare-Starlette floor the same way.

    An idle keep-alive connection is closed by the client, never by the subgraph: the gateway's
    Node agent closes its idle sockets after 5 s, which was uvicorn's default too, so under load
    the gateway sometimes sent a request on a connection uvicorn was closing and got ECONNRESET
    (a failed mutation that it cannot retry). The subgraph waits far longer than any client."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app_factory,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--timeout-keep-alive",
        str(KEEP_ALIVE_SECONDS),
    ]


@dataclass
class Ports:
    gateway: int = 4000
    items: int = 4001
    orders: int = 4002
    payments: int = 4003
    accounts: int = 4004
    processor: int = 4005
    mongo: int = 27017
    mysql: int = 3306
    kafka: int = 9092
    kafka_controller: int = 9093
    cql: int = 9042
    cassandra_storage: int = 7000

    @classmethod
    def from_env(cls) -> Ports:
        ports = cls()
        for name in vars(ports):
            value = os.environ.get(f"SHOP_{name.upper()}_PORT")
            if value:
                setattr(ports, name, int(value))
        return ports

    def url(self, subgraph: str) -> str:
        return f"http://127.0.0.1:{getattr(self, subgraph)}/graphql"


@dataclass
class LocalStack:
    data_dir: Path
    ports: Ports = field(default_factory=Ports)
    engines: Engines = "light"
    mysql_server: str | None = None  # mysql+aiomysql://user@host:port; None = a MariaDB of its own
    mysql_suffix: str = ""  # appended to the database names, to run two stacks on one server
    extra_env: dict[str, str] = field(default_factory=dict)
    processor_test_hooks: bool = False  # the fake processor's /_hooks (crash tests)
    gateway_node_args: tuple[str, ...] = ()  # e.g. the benchmark's --cpu-prof
    progress: Callable[[str], None] = lambda _: None  # told what is starting, and when ready
    processes: dict[str, Process] = field(default_factory=dict)
    _supergraph: Path | None = field(default=None, init=False, repr=False)

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @functools.cached_property
    def _secrets(self) -> dict[str, str]:
        """Development secrets: from the environment, else generated once into the data dir
        (read and written once per stack, not for every process it starts)."""
        path = self.data_dir / "secrets.env"
        values = read_secrets(path)
        for name in (*SERVICE_SECRETS, MYSQL_PASSWORD):
            values[name] = os.environ.get(name) or values.get(name) or secrets.token_urlsafe(32)
        write_private(path, "".join(f"{k}={v}\n" for k, v in values.items()))
        return values

    def admin_credentials(self) -> tuple[str, str]:
        return (
            os.environ.get("SHOP_ADMIN_EMAIL", DEV_ADMIN_EMAIL),
            os.environ.get("SHOP_ADMIN_PASSWORD", DEV_ADMIN_PASSWORD),
        )

    def env(self) -> dict[str, str]:
        p = self.ports
        email, password = self.admin_credentials()
        env = {
            "SHOP_ENV": os.environ.get("SHOP_ENV", "development"),
            "SHOP_DATA_DIR": str(self.data_dir),
            "SHOP_KAFKA_BOOTSTRAP": f"127.0.0.1:{p.kafka}",
            "SHOP_JWKS_URL": f"http://127.0.0.1:{p.accounts}/.well-known/jwks.json",
            "SHOP_ITEMS_URL": p.url("items"),
            "SHOP_ORDERS_URL": p.url("orders"),
            "SHOP_PAYMENTS_URL": p.url("payments"),
            "SHOP_ACCOUNTS_URL": p.url("accounts"),
            "SHOP_ADMIN_EMAIL": email,
            "SHOP_ADMIN_PASSWORD": password,
            "ITEMS_MONGO_URL": f"mongodb://127.0.0.1:{p.mongo}/?directConnection=true",
            "ITEMS_SEED_DEMO_CATALOG": "true",
            "ORDERS_CQL_HOSTS": "127.0.0.1",
            "ORDERS_CQL_PORT": str(p.cql),
            "SHOP_PROCESSOR": "http",
            "SHOP_PROCESSOR_URL": f"http://127.0.0.1:{p.processor}",
            **{name: self._secrets[name] for name in SERVICE_SECRETS},
        }
        env["ACCOUNTS_DATABASE_URL"] = f"{self.mysql_url}/{ACCOUNTS_DATABASE}{self.mysql_suffix}"
        env["PAYMENTS_DATABASE_URL"] = f"{self.mysql_url}/{PAYMENTS_DATABASE}{self.mysql_suffix}"
        return {**env, **self.extra_env}

    @property
    def mysql_url(self) -> str:
        """The MySQL-protocol server of payments and accounts (no database in it)."""
        if self.mysql_server:
            return self.mysql_server
        return local_mysql_url(self.ports.mysql, self._secrets[MYSQL_PASSWORD])

    def _engine(self, name: str, what: str, start: Callable[[], Process], **ports: int) -> None:
        """Starts one engine after checking that its ports are free; says what it does."""
        for port_name, port in ports.items():
            if port_open(port):
                raise StartError(
                    f"{name}: port {port} is taken; stop what uses it or set "
                    f"SHOP_{port_name.upper()}_PORT to another port"
                )
        self.progress(f"  {what} on :{next(iter(ports.values()))} ...")
        started = time.monotonic()
        self.processes[name] = start()
        self.progress(f"  {what} ready after {time.monotonic() - started:.1f}s")

    def start_engines(self, *also: Callable[[], object]) -> None:
        """Starts the engines side by side, with ``also`` (work that needs no engine, such as
        composing the supergraph): none waits for another, so the stack is up after its
        slowest engine (Cassandra) rather than after their sum. Raises the first failure once
        every one has finished; what did start is in ``processes`` (``start`` stops it)."""
        p = self.ports
        cql_ports = {"cql": p.cql}
        if self.engines == "real":
            cql = "Apache Cassandra (tens of seconds)"
            cql_ports["cassandra_storage"] = p.cassandra_storage
        else:
            cql = "cqlserver (CQL protocol)"
        # Each engine: its name in ``processes``, what the progress lines call it, how it
        # starts, and the ports it needs free.
        engines: list[tuple[str, str, Callable[[], Process], dict[str, int]]] = [
            ("mongo", "SecantusDB (MongoDB protocol)", self.start_mongo, {"mongo": p.mongo}),
            *(
                [("mysql", "MariaDB (MySQL protocol)", self.start_mysql, {"mysql": p.mysql})]
                if self.mysql_server is None
                else []
            ),
            (
                "kafka",
                "Apache Kafka",
                self.start_kafka,
                {"kafka": p.kafka, "kafka_controller": p.kafka_controller},
            ),
            ("cql", cql, self.start_cql, cql_ports),
            ("processor", "fake card processor", self.start_processor, {"processor": p.processor}),
        ]
        _ = self._secrets  # read (and written) once, before the threads need it
        side_by_side(
            *(
                functools.partial(self._engine, name, what, start, **ports)
                for name, what, start, ports in engines
            ),
            *also,
        )
        # Listed in this order, whichever was ready first.
        for name in ENGINE_PROCESSES:
            if name in self.processes:
                self.processes[name] = self.processes.pop(name)

    def start_processor(self) -> Process:
        """The fake card processor, its books in ``<data dir>/processor/ledger.jsonl``."""
        self.processes["processor"] = proc = start_fake_processor(
            self.ports.processor,
            self.data_dir / "processor" / "ledger.jsonl",
            self.log_dir,
            self._secrets["SHOP_PROCESSOR_API_KEY"],
            test_hooks=self.processor_test_hooks,
        )
        return proc

    def start_mysql(self) -> Process:
        """MariaDB on ``<data dir>/mariadb``."""
        self.processes["mysql"] = proc = engines.start_mysql(
            self.ports.mysql,
            self.data_dir / "mariadb",
            self.log_dir,
            root_password=self._secrets[MYSQL_PASSWORD],
        )
        return proc

    def start_mongo(self) -> Process:
        self.processes["mongo"] = proc = engines.start_mongo(
            self.ports.mongo, self.data_dir / "mongo", self.log_dir
        )
        return proc

    def start_kafka(self) -> Process:
        self.processes["kafka"] = proc = engines.start_kafka(
            self.ports.kafka,
            self.data_dir / "kafka",
            self.log_dir,
            controller_port=self.ports.kafka_controller,
        )
        return proc

    def start_cql(self) -> Process:
        """The CQL engine of this stack on the ``cql`` port: Cassandra or the cqlserver."""
        p, data, logs = self.ports, self.data_dir, self.log_dir
        if self.engines == "real":
            proc = engines.start_cassandra(
                p.cql, data / "cassandra", logs, storage_port=p.cassandra_storage
            )
        else:
            proc = engines.start_cql(p.cql, data / "cql", logs)
        self.processes["cql"] = proc
        return proc

    def kill(self, name: str) -> None:
        """Stop one process abruptly, as a crash would."""
        self.processes.pop(name).kill()

    def start_subgraph(self, name: str, **env: str) -> Process:
        """Starts one subgraph; ``env`` overrides its environment (tests use it)."""
        return self.start_subgraphs(name, **env)[0]

    def start_subgraphs(self, *names: str, **env: str) -> list[Process]:
        """Starts the subgraphs side by side (none needs another to start), then waits until
        each answers ``/healthz``."""
        started = []
        for name in names:
            port = getattr(self.ports, name)
            argv = uvicorn_command(f"subgraphs.{name}.app:create_app", port)
            proc = spawn(name, argv, log_dir=self.log_dir, env={**self.env(), **env})
            self.processes[name] = proc
            started.append(proc)
        for name, proc in zip(names, started, strict=True):
            port = getattr(self.ports, name)
            proc.wait_until(
                functools.partial(http_ok, f"http://127.0.0.1:{port}/healthz"),
                timeout=90,
                hint=f"{name} did not answer /healthz.",
            )
        return started

    def compose_supergraph(self) -> Path:
        """The supergraph the gateway serves, composed from the subgraphs' committed SDL with
        this stack's routing URLs, once per stack (a gateway restart reuses it). It is built,
        not committed: the one committed composition is the released public schema."""
        if self._supergraph is None:
            supergraph = private_file(self.data_dir / "supergraph.graphql")
            compose_supergraph(supergraph, routing={n: self.ports.url(n) for n in SUBGRAPHS})
            self._supergraph = private_file(supergraph)
        return self._supergraph

    def start_gateway(self) -> None:
        self.processes["gateway"] = start_gateway(
            self.compose_supergraph(),
            self.ports.gateway,
            self.env(),
            log_path=self.log_dir / "gateway.log",
            node_args=self.gateway_node_args,
        )

    def _create_mysql_databases(self) -> None:
        engines.mysql_execute(
            self.mysql_url,
            *(
                f"CREATE DATABASE IF NOT EXISTS `{name}{self.mysql_suffix}` CHARACTER SET utf8mb4"
                for name in (ACCOUNTS_DATABASE, PAYMENTS_DATABASE)
            ),
        )

    def start(self) -> None:
        private_dir(self.data_dir)
        make_private(self.data_dir)  # what an older version left readable by everyone
        try:
            self.start_engines(self.compose_supergraph)
            self._create_mysql_databases()
            self.progress("  the four subgraphs and the gateway ...")
            # The gateway serves a composed supergraph: it needs no subgraph to start.
            side_by_side(functools.partial(self.start_subgraphs, *SUBGRAPHS), self.start_gateway)
        except BaseException:
            self.stop()
            raise

    def stop(self, *, kill_engines: bool = False) -> None:
        """Stops the gateway and the subgraphs side by side, then the engines side by side:
        each process takes seconds to stop (Kafka and Cassandra flush, a subgraph closes its
        consumers), and none waits for another. With ``kill_engines`` the engines are killed
        instead, for a stack whose data is thrown away (a test's): Cassandra's flush alone
        takes about 5 s, for data nobody reads again."""
        names = list(reversed(self.processes))
        services = [name for name in names if name not in ENGINE_PROCESSES]
        side_by_side(*(self.processes.pop(name).stop for name in services))
        engines = [self.processes.pop(name) for name in names if name in ENGINE_PROCESSES]
        side_by_side(*(engine.kill if kill_engines else engine.stop for engine in engines))

    @property
    def graphql_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.gateway}/graphql"


def side_by_side(*calls: Callable[[], object]) -> None:
    """Runs ``calls`` in threads at once and waits for all of them; then raises the first
    failure, if any (a start that failed must not leave another one half-way)."""
    with ThreadPoolExecutor(max_workers=max(1, len(calls))) as pool:
        futures = [pool.submit(call) for call in calls]
    for future in futures:
        future.result()
