"""``python -m stack up | schema | schema-check | schema-release``: what ``make up``,
``make schema``, ``make schema-check`` and ``make schema-release`` run."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from stack.local import Engines, LocalStack, Ports
from stack.process import REPO_ROOT, StartError
from stack.schema import check_schema, release_schema, write_schemas


def up(engines: Engines) -> int:
    stack = LocalStack(
        data_dir=REPO_ROOT / ".data",
        ports=Ports.from_env(),
        engines=engines,
        mysql_server=os.environ.get("MYSQL_URL") or None,
        progress=lambda line: print(line, flush=True),
    )
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    print(
        f"Starting the {engines} engines, the subgraphs and the gateway (logs in .data/logs/) ...",
        flush=True,
    )
    try:
        stack.start()
    except StartError as exc:
        print(f"\nCould not start the shop: {exc}", file=sys.stderr)
        return 1
    email, password = stack.admin_credentials()
    print(
        f"\nThe shop is up. GraphiQL: http://localhost:{stack.ports.gateway}/graphql\n"
        f"REST: http://localhost:{stack.ports.gateway}/api/items (docs: /api/docs)\n"
        f"Admin (development values unless SHOP_ADMIN_EMAIL/SHOP_ADMIN_PASSWORD are set): "
        f"{email} / {password}\n"
        "Press Ctrl-C to stop.",
        flush=True,
    )
    try:
        while not stopping.wait(1.0):
            for name, proc in stack.processes.items():
                if proc.popen.poll() is not None:
                    print(f"{name} exited; see {proc.log_path}", file=sys.stderr)
                    stopping.set()
    finally:
        print("\nStopping ...", flush=True)
        stack.stop()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m stack")
    parser.add_argument("command", choices=["up", "schema", "schema-check", "schema-release"])
    parser.add_argument(
        "--engines",
        choices=["light", "real"],
        default="light",
        help="light: orders on this project's cqlserver; real: on Apache Cassandra",
    )
    args = parser.parse_args()
    if args.command == "up":
        return up(args.engines)
    if args.command == "schema-check":
        return check_schema()
    if args.command == "schema-release":
        release_schema()
        return 0
    write_schemas(REPO_ROOT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
