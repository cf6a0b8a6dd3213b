"""The engines the shop runs on, started as child processes that speak the real protocols.

* Kafka: Apache Kafka (KRaft, one node), from ``engines/kafka`` (see ``stack.jvm``).
* CQL: Apache Cassandra 5.0 (one node), from ``engines/cassandra``; or, for a light stack,
  this project's ``cqlserver``.
* MongoDB protocol: SecantusDB (``python -m secantus``).
* MySQL protocol: a throwaway MariaDB (``mariadbd``) on its own data directory.

Each ``start_*`` returns a ready ``Process`` or raises ``StartError`` naming the engine, the
cause and its log file.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import string
import subprocess
import sys
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from stack import jvm
from stack.process import (
    PRIVATE_UMASK,
    Process,
    StartError,
    port_open,
    private_dir,
    spawn,
    write_private,
)

T = TypeVar("T")
KAFKA_HEAP = ["-Xms256m", "-Xmx512m"]
CASSANDRA_HEAP = ["-Xms1g", "-Xmx1g", "-Xss512k"]
# More options for the Kafka and Cassandra JVMs, after ours (a later one wins), separated by
# spaces. The tests set ``-XX:TieredStopAtLevel=1`` (tests/conftest.py).
JVM_OPTIONS = "SHOP_JVM_OPTIONS"
JVM_START_SECONDS = 180


def _jvm_options() -> list[str]:
    return os.environ.get(JVM_OPTIONS, "").split()


def _in_thread(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Runs a coroutine to its end on a loop of its own (callers may be inside a loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, make()).result()


def _render(engine: str, name: str, data_dir: Path, /, **values: object) -> Path:
    """The engine's configuration template ``name`` (``jvm.config_file``) with ``values``
    filled in, written as ``data_dir/name`` (private): its path, for the engine to read. The
    first three are positional-only, so a template may take a ``data_dir`` value (Kafka's)."""
    template = jvm.config_file(engine, name)
    text = string.Template(template.read_text()).substitute({k: str(v) for k, v in values.items()})
    private_dir(data_dir)
    return write_private(data_dir / name, text)


def start_mongo(port: int, data_dir: Path | None, log_dir: Path) -> Process:
    storage = ":memory:" if data_dir is None else str(data_dir)
    if data_dir is not None:
        private_dir(data_dir)
    argv = [sys.executable, "-m", "secantus", "--host", "127.0.0.1", "--port", str(port)]
    proc = spawn("mongo", [*argv, "--storage-path", storage], log_dir=log_dir)
    proc.wait_until(
        lambda: port_open(port),
        timeout=60,
        hint="The MongoDB-protocol server is SecantusDB (PyPI secantusdb); run `make install`.",
    )
    return proc


def kafka_answers(bootstrap: str) -> bool:
    """The broker answers a metadata request (and has elected its controller)."""
    from aiokafka.admin import AIOKafkaAdminClient

    async def probe() -> bool:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
        try:
            await admin.start()
            cluster = await admin.describe_cluster()
            return bool(cluster.get("brokers")) and cluster.get("controller_id", -1) >= 0
        finally:
            await admin.close()

    try:
        return _in_thread(probe)
    except Exception:
        return False


def start_kafka(
    port: int,
    data_dir: Path,
    log_dir: Path,
    *,
    controller_port: int,
    host: str = "127.0.0.1",
) -> Process:
    """Apache Kafka in KRaft mode, broker and controller in one JVM. ``data_dir`` keeps the
    log (events and committed offsets) across restarts; it is formatted on first use."""
    java = jvm.java(at_least=17)
    data_dir = data_dir.resolve()
    config = _render(
        "kafka",
        "server.properties",
        data_dir,
        host=host,
        advertised_host="127.0.0.1" if host == "0.0.0.0" else host,
        port=port,
        controller_port=controller_port,
        data_dir=data_dir / "log",
    )
    base = [
        java,
        *_jvm_options(),
        f"-Dlog4j2.configurationFile={jvm.config_file('kafka', 'log4j2.yaml')}",
        "-cp",
        jvm.classpath("kafka"),
    ]
    if not (data_dir / "log" / "meta.properties").exists():
        cluster_id = uuid.uuid4().hex[:22]
        formatted = subprocess.run(
            [
                *base,
                "kafka.tools.StorageTool",
                "format",
                "--standalone",
                "--ignore-formatted",
                "-t",
                cluster_id,
                "-c",
                str(config),
            ],
            capture_output=True,
            text=True,
            check=False,
            umask=PRIVATE_UMASK,
        )
        if formatted.returncode != 0:
            raise StartError(
                f"kafka: formatting its storage in {data_dir / 'log'} failed:\n"
                f"{(formatted.stderr or formatted.stdout)[-2000:]}"
            )
    proc = spawn(
        "kafka", [java, *KAFKA_HEAP, *base[1:], "kafka.Kafka", str(config)], log_dir=log_dir
    )
    proc.wait_until(
        lambda: port_open(port, host="127.0.0.1") and kafka_answers(f"127.0.0.1:{port}"),
        timeout=JVM_START_SECONDS,
        hint="Apache Kafka did not answer a metadata request.",
    )
    return proc


def cassandra_answers(port: int) -> bool:
    """The native port answers and ``system.local`` can be read."""
    if not port_open(port):
        return False
    import acsylla

    async def probe() -> bool:
        cluster = acsylla.create_cluster(
            ["127.0.0.1"],
            port=port,
            protocol_version=4,
            connect_timeout=2.0,
            request_timeout=5.0,
            log_level="disabled",
        )
        session = await cluster.create_session()
        try:
            result = await session.execute(
                acsylla.create_statement("SELECT release_version FROM system.local")
            )
            return result.first() is not None
        finally:
            await session.close()

    try:
        return _in_thread(probe)
    except Exception:
        return False


def start_cassandra(
    port: int,
    data_dir: Path,
    log_dir: Path,
    *,
    storage_port: int,
    host: str = "127.0.0.1",
) -> Process:
    """Apache Cassandra 5.0, one node in its own JVM (Java 17 exactly), with our
    ``engines/cassandra/cassandra.yaml`` and its data under ``data_dir``."""
    java = jvm.java(exactly=17)
    data_dir = data_dir.resolve()
    config = _render(
        "cassandra", "cassandra.yaml", data_dir, host=host, port=port, storage_port=storage_port
    )
    options = [
        line.strip()
        for line in jvm.config_file("cassandra", "jvm17-server.options").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    argv = [
        java,
        *options,
        *CASSANDRA_HEAP,
        *_jvm_options(),
        f"-javaagent:{jvm.jar('cassandra', 'jamm-')}",
        f"-Dcassandra.config=file://{config}",
        f"-Dcassandra.storagedir={data_dir / 'storage'}",
        f"-Dlogback.configurationFile={jvm.config_file('cassandra', 'logback.xml')}",
        "-Dcassandra-foreground=yes",
        # One node: nothing to wait for before serving.
        "-Dcassandra.skip_wait_for_gossip_to_settle=0",
        "-Dcassandra.ring_delay_ms=0",
        "-cp",
        jvm.classpath("cassandra"),
        "org.apache.cassandra.service.CassandraDaemon",
    ]
    proc = spawn("cassandra", argv, log_dir=log_dir)
    proc.wait_until(
        lambda: cassandra_answers(port),
        timeout=JVM_START_SECONDS,
        hint="Apache Cassandra did not answer `SELECT release_version FROM system.local`.",
    )
    return proc


ACCESS_DENIED = 1045  # MySQL's ER_ACCESS_DENIED_ERROR


def _mariadb_binary(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/usr/local/bin")
    if found is None:
        raise StartError(
            f"{name} is not installed. Install MariaDB (`apt-get install mariadb-server`) "
            "or point MYSQL_URL at a MySQL server (mysql+aiomysql://user:pw@host:port/db)."
        )
    return found


def mysql_execute(server_url: str, *statements: str) -> None:
    """Runs ``statements`` on the MySQL-protocol server at ``server_url``
    (``mysql+aiomysql://user:pw@host:port``, no database), e.g. to create databases."""
    import pymysql  # installed with aiomysql
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    conn = pymysql.connect(
        host=url.host, port=url.port or 3306, user=url.username, password=url.password or ""
    )
    try:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        conn.close()


def start_mysql(
    port: int, data_dir: Path, log_dir: Path, root_password: str | None = None
) -> Process:
    """MariaDB on ``data_dir``, initialised on first use. With ``root_password``, root needs
    it (a server others on the machine can reach on the loopback must not let them in): it is
    set whenever root still gets in without one (a new server, or one whose first start
    stopped before the password was set); without, root has no password (the tests'
    throwaway server)."""
    data_dir = data_dir.resolve()
    # mariadbd sets its own umask from these (by default its files are 0660, group-readable)
    private = {"UMASK": "0600", "UMASK_DIR": "0700"}
    if not (data_dir / "mysql").exists():
        private_dir(data_dir)
        subprocess.run(
            [
                _mariadb_binary("mariadb-install-db"),
                "--no-defaults",
                f"--datadir={data_dir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--user=root",
            ],
            check=True,
            capture_output=True,
            env={**os.environ, **private},
            umask=PRIVATE_UMASK,
        )
    argv = [
        _mariadb_binary("mariadbd"),
        "--no-defaults",
        f"--datadir={data_dir}",
        f"--port={port}",
        "--bind-address=127.0.0.1",
        f"--socket={data_dir}/mysqld.sock",
        f"--pid-file={data_dir}/mysqld.pid",
        "--user=root",
        "--skip-name-resolve",
        "--innodb-buffer-pool-size=64M",
        "--max-connections=500",
    ]
    proc = spawn("mysql", argv, log_dir=log_dir, env=private)
    proc.wait_until(lambda: port_open(port), timeout=60, hint="MariaDB did not start.")
    if root_password:
        try:
            _set_root_password(port, root_password)
        except BaseException:
            proc.stop()
            raise
    return proc


def _set_root_password(port: int, password: str) -> None:
    """Gives the root accounts that can be reached (localhost, 127.0.0.1 and ::1; one named
    after the host cannot, with --skip-name-resolve) the password, if root gets in without
    one; nothing if it is refused (the password is set)."""
    import pymysql  # installed with aiomysql

    try:
        conn = pymysql.connect(host="127.0.0.1", port=port, user="root", password="")
    except pymysql.err.OperationalError as exc:
        if exc.args[0] == ACCESS_DENIED:
            return
        raise
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT host FROM mysql.user"
                " WHERE user = 'root' AND host IN ('localhost', '127.0.0.1', '::1')"
            )
            for (host,) in cur.fetchall():
                cur.execute("ALTER USER 'root'@%s IDENTIFIED BY %s", (host, password))
            cur.execute("FLUSH PRIVILEGES")
    finally:
        conn.close()


def start_cql(port: int, data_dir: Path | None, log_dir: Path) -> Process:
    argv = [sys.executable, "-m", "cqlserver", "--host", "127.0.0.1", "--port", str(port)]
    if data_dir is not None:
        private_dir(data_dir)
        argv += ["--data-dir", str(data_dir)]
    proc = spawn("cql", argv, log_dir=log_dir)
    proc.wait_until(
        lambda: port_open(port),
        timeout=30,
        hint="The CQL server is this repository's `python -m cqlserver`.",
    )
    return proc
