"""The whole shop, started for real: Apache Kafka, Apache Cassandra, SecantusDB (MongoDB
protocol) and MariaDB, the four subgraphs as uvicorn processes, and Hive Gateway, on free
ports (``stack.local.LocalStack`` with ``engines="real"``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from stack.local import LocalStack, Ports
from stack.process import StartError, free_port
from tests.e2e.client import Gateway

pytestmark = pytest.mark.e2e


ADMIN_EMAIL = "admin@e2e.test"
ADMIN_PASSWORD = "e2e-admin-password-42"


def started_stack(data_dir: Path, mysql_server: str, name: str, **env: str) -> LocalStack:
    """A whole stack on free ports; ``env`` adds to (or overrides) every process's environment."""
    stack = LocalStack(
        data_dir=data_dir,
        ports=Ports(**{port: free_port() for port in vars(Ports())}),
        engines="real",
        mysql_server=mysql_server,
        mysql_suffix=f"_{name}_{uuid.uuid4().hex[:6]}",
        extra_env={
            "SHOP_ADMIN_EMAIL": ADMIN_EMAIL,
            "SHOP_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "SHOP_OUTBOX_POLL_SECONDS": "0.2",
            "SHOP_AUTH_RATE_LIMIT": "1000",
            **env,
        },
        processor_test_hooks=True,
    )
    try:
        stack.start()
    except StartError as exc:
        pytest.fail(f"the local stack did not start: {exc}", pytrace=False)
    return stack


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory, mysql_server: str) -> Iterator[LocalStack]:
    stack = started_stack(tmp_path_factory.mktemp("shop"), mysql_server, "e2e")
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def gateway(shop: LocalStack) -> Gateway:
    return Gateway(shop.graphql_url)
