"""A GraphQL client of the gateway, as a frontend would be, and a polling helper."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

import httpx

from stack.local import LocalStack
from tests.support.documents import LOGIN, REGISTER
from tests.support.graphql import graphql_post


class Gateway:
    """A GraphQL client of the gateway, as a frontend would be."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(self.url, **graphql_post(query, variables, token))
        return response.json()

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        body = await self(query, variables, token)
        assert not body.get("errors"), body
        return body["data"]

    async def login(self, email: str, password: str) -> str:
        data = await self.data(
            LOGIN,
            {"e": email, "p": password},
        )
        return data["login"]["token"]

    async def register(
        self, email: str, password: str = "correct-horse-battery", name: str = "Ada"
    ) -> str:
        await self.data(
            REGISTER,
            {"i": {"email": email, "name": name, "password": password}},
        )
        return await self.login(email, password)


async def eventually(check, timeout: float = 30.0, interval: float = 0.3):
    """Polls ``check`` (an async function) until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")


async def assert_books_reconcile(stack: LocalStack, settle: float = 45.0) -> None:
    """Runs ``make reconcile``'s command against ``stack`` (its databases and the processor's
    books, as an operator would) and fails with every discrepancy it printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ops.reconcile",
        "--settle",
        str(settle),
        env={**os.environ, **stack.env()},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), settle + 120)
    assert process.returncode == 0, output.decode()
