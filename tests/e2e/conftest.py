"""The whole shop, started for real: engines (MongoDB-, Kafka-, CQL- and MySQL-protocol
servers), the four subgraphs as uvicorn processes, and Hive Gateway, on free ports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stack.local import LocalStack, Ports
from stack.process import StartError, free_port
from tests.e2e.client import Gateway

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory, mysql_server: str) -> Iterator[LocalStack]:
    ports = Ports(**{name: free_port() for name in vars(Ports())})
    stack = LocalStack(
        data_dir=tmp_path_factory.mktemp("shop"),
        ports=ports,
        persistent=False,
        mysql_server=mysql_server,
        extra_env={
            "SHOP_ADMIN_EMAIL": "admin@e2e.test",
            "SHOP_ADMIN_PASSWORD": "e2e-admin-password-42",
            "SHOP_OUTBOX_POLL_SECONDS": "0.2",
            "SHOP_AUTH_RATE_LIMIT": "1000",
        },
    )
    try:
        stack.start()
    except StartError as exc:
        pytest.fail(f"the local stack did not start: {exc}", pytrace=False)
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def gateway(shop: LocalStack) -> Gateway:
    return Gateway(shop.graphql_url)
