"""The client's side of ``graphql-transport-ws``, the gateway's WebSocket protocol for
subscriptions, once for its clients: the e2e suite's (tests/e2e/live.py and the cap test in
tests/e2e/test_live_order_status_limits.py) and the benchmark's idle subscribers
(bench/subscribers.py)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncGenerator
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

SUBPROTOCOL = websockets.Subprotocol("graphql-transport-ws")


async def initialised(socket: ClientConnection, payload: dict[str, Any] | None = None) -> None:
    """Opens the protocol's connection (``payload``: what the client sends with it, such as a
    token) and fails unless the server acknowledges it."""
    await socket.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
    ack = json.loads(await socket.recv())
    if ack["type"] != "connection_ack":
        raise ConnectionError(f"no connection_ack: {ack}")


async def subscribe(
    socket: ClientConnection, query: str, variables: dict[str, Any], operation_id: str = "1"
) -> None:
    payload = {"query": query, "variables": variables}
    await socket.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": payload}))


async def server_messages(socket: ClientConnection) -> AsyncGenerator[dict[str, Any]]:
    """The server's messages until it closes the socket, but its pings, which are answered
    (a client that does not answer them is dropped)."""
    with contextlib.suppress(websockets.ConnectionClosed):
        async for raw in socket:
            message = json.loads(raw)
            if message["type"] == "ping":
                await socket.send(json.dumps({"type": "pong"}))
            else:
                yield message
