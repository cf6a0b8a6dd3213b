"""The whole shop, started for real: engines (MongoDB-, Kafka-, CQL- and MySQL-protocol
servers), the four subgraphs as uvicorn processes, and Hive Gateway, on free ports."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from stack.local import LocalStack, Ports
from stack.process import StartError, free_port

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


class Gateway:
    """A GraphQL client of the gateway, as a frontend would be."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(
                self.url, json={"query": query, "variables": variables or {}}, headers=headers
            )
        return response.json()

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        body = await self(query, variables, token)
        assert not body.get("errors"), body
        return body["data"]

    async def login(self, email: str, password: str) -> str:
        data = await self.data(
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
            {"e": email, "p": password},
        )
        return data["login"]["token"]

    async def register(
        self, email: str, password: str = "correct-horse-battery", name: str = "Ada"
    ) -> str:
        await self.data(
            "mutation($i: RegisterInput!) { register(input: $i) { token } }",
            {"i": {"email": email, "name": name, "password": password}},
        )
        return await self.login(email, password)


@pytest.fixture(scope="session")
def gateway(shop: LocalStack) -> Gateway:
    return Gateway(shop.graphql_url)


async def eventually(check, timeout: float = 30.0, interval: float = 0.3):  # type: ignore[no-untyped-def]
    """Polls ``check`` (an async function) until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")
