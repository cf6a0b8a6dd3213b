"""Clients of the gateway's subscriptions, as a frontend would subscribe: Server-Sent Events
(``Accept: text/event-stream``) and WebSocket (``graphql-transport-ws``). Each yields the
GraphQL results of one subscription until the server completes it or the connection ends.
Also what the live-status tests share: an order to subscribe to, a subscription to it over
either transport, and a payment heard on the stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import websockets

from tests.e2e.client import Gateway
from tests.e2e.test_user_flow import CARD_OK, admin_token, create_item, create_order, pay
from tests.support import graphql_ws

ORDER_STATUS = (
    "subscription($id: ID!) { orderStatusChanged(orderId: $id) "
    "{ id status updatedAt payment { status } } }"
)


async def sse(
    url: str, query: str, variables: dict[str, Any], token: str | None
) -> AsyncIterator[dict[str, Any]]:
    headers = {"accept": "text/event-stream"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client,
        client.stream(
            "POST", url, json={"query": query, "variables": variables}, headers=headers
        ) as response,
    ):
        if "text/event-stream" not in response.headers.get("content-type", ""):
            yield json.loads(await response.aread())
            return
        event = None
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
                if event == "complete":
                    return
            elif line.startswith("data:") and event in (None, "next"):
                data = line.removeprefix("data:").strip()
                if data:
                    yield json.loads(data)
            elif line == "":
                event = None


async def ws(
    url: str, query: str, variables: dict[str, Any], token: str | None
) -> AsyncIterator[dict[str, Any]]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with (
        websockets.connect(
            url.replace("http://", "ws://"),
            subprotocols=[graphql_ws.SUBPROTOCOL],
            additional_headers=headers,
        ) as socket,
        contextlib.aclosing(graphql_ws.server_messages(socket)) as messages,
    ):
        await graphql_ws.initialised(socket)
        await graphql_ws.subscribe(socket, query, variables)
        async for message in messages:
            if message["type"] == "next":
                yield message["payload"]
            elif message["type"] == "error":
                yield {"errors": message["payload"]}
                return
            elif message["type"] == "complete":
                return
        # The server closed the socket (a clean close ends the iteration without an error).
        yield {"closed": {"code": socket.close_code, "reason": socket.close_reason}}


class Subscriber:
    """Runs one subscription in the background and records each result with when it came."""

    def __init__(self, stream: AsyncIterator[dict[str, Any]]) -> None:
        self.results: list[tuple[float, dict[str, Any]]] = []
        self.ended = asyncio.Event()
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._run(stream))

    async def _run(self, stream: AsyncIterator[dict[str, Any]]) -> None:
        try:
            async for result in stream:
                self.results.append((time.monotonic(), result))
                self._changed.set()
        finally:
            self.ended.set()
            self._changed.set()

    @property
    def statuses(self) -> list[str]:
        return [
            r["data"]["orderStatusChanged"]["status"]
            for _, r in self.results
            if (r.get("data") or {}).get("orderStatusChanged")
        ]

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [e for _, r in self.results for e in r.get("errors") or []]

    async def wait_for(self, status: str, timeout: float = 30) -> float:
        """When ``status`` arrived (time.monotonic), waiting for it at most ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            for at, result in self.results:
                data = (result.get("data") or {}).get("orderStatusChanged")
                if data and data["status"] == status:
                    return at
            if self.ended.is_set():
                raise AssertionError(f"the stream ended without {status}: {self.results}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {status} within {timeout}s: {self.results}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    async def wait_ended(self, timeout: float = 30) -> None:
        await asyncio.wait_for(self.ended.wait(), timeout)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task

    async def __aenter__(self) -> Subscriber:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


Stream = Callable[[str, str, dict[str, Any], str | None], AsyncIterator[dict[str, Any]]]
TRANSPORTS: dict[str, Stream] = {"sse": sse, "ws": ws}


def subscribe(gateway: Gateway, transport: str, order_id: str, token: str | None) -> Subscriber:
    """``orderStatusChanged`` of ``order_id`` over ``transport`` (``sse`` or ``ws``), as the
    holder of ``token`` (None: anonymous); closed when its ``async with`` block ends."""
    stream = TRANSPORTS[transport](gateway.url, ORDER_STATUS, {"id": order_id}, token)
    return Subscriber(stream)


async def new_order(gateway: Gateway, token: str) -> str:
    """The id of a new order of one unit of a new item, for the holder of ``token``."""
    item = await create_item(gateway, await admin_token(gateway), stock=5)
    return (await create_order(gateway, token, item["id"], 1))["id"]


async def pay_while_subscribed(
    gateway: Gateway, token: str, order_id: str, paid_within: float, transport: str = "sse"
) -> None:
    """Pays ``order_id`` with a good card while subscribed to it: the stream must say
    PENDING_PAYMENT first, then PAID within ``paid_within`` seconds of the answer."""
    async with subscribe(gateway, transport, order_id, token) as live:
        await live.wait_for("PENDING_PAYMENT", timeout=15)
        answer = await pay(gateway, token, order_id, CARD_OK)
        assert answer["data"]["submitPayment"]["status"] == "SUCCEEDED", answer
        await live.wait_for("PAID", timeout=paid_within)
