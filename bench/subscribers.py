"""Idle live-status subscribers for the benchmark's phase 6 (``python -m bench.subscribers``).

Opens ``--count`` ``orderStatusChanged`` subscriptions through the gateway, one WebSocket
(``graphql-transport-ws``) each, as that many browser tabs would, and keeps them open without
traffic until SIGTERM. The token of the order's owner is read from ``SHOP_BENCH_TOKEN``.
It prints ``ready`` once every subscription has received its first
event (the order's current status: the subscription is registered in orders and its stream
is open end to end), and on SIGTERM one JSON line saying how many were still open.

It runs as a process of its own so that its CPU is not the benchmark's and can be reported
beside the figures (bench/__main__.py reads it from /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys

import websockets

from tests.support import graphql_ws
from tests.support.documents import ORDER_STATUS_CHANGED


async def subscribe(url: str, token: str, order_id: str, opened: asyncio.Event) -> str:
    """One subscriber: sets ``opened`` at its first event, then answers pings until the
    stream ends; returns how it ended."""
    async with (
        websockets.connect(
            url, subprotocols=[graphql_ws.SUBPROTOCOL], open_timeout=60, max_queue=None
        ) as socket,
        contextlib.aclosing(graphql_ws.server_messages(socket)) as messages,
    ):
        await graphql_ws.initialised(socket, {"Authorization": f"Bearer {token}"})
        await graphql_ws.subscribe(socket, ORDER_STATUS_CHANGED, {"id": order_id})
        async for message in messages:
            if message["type"] == "next":
                if message["payload"].get("errors"):
                    raise RuntimeError(f"subscription refused: {message['payload']}")
                opened.set()
            elif message["type"] in ("error", "complete"):
                return f"{message['type']}: {message.get('payload')}"
        return f"closed {socket.close_code} {socket.close_reason}"


async def run(url: str, token: str, order_id: str, count: int, concurrency: int) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    gate = asyncio.Semaphore(concurrency)  # open a few at a time, as tabs would arrive
    tasks: list[asyncio.Task[str]] = []

    async def one() -> None:
        opened = asyncio.Event()
        async with gate:
            task = asyncio.create_task(subscribe(url, token, order_id, opened))
            tasks.append(task)
            waiter = asyncio.create_task(opened.wait())
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if not opened.is_set():
                task.result()  # raises what went wrong
                raise RuntimeError(f"a subscription ended before its first event: {task.result()}")

    await asyncio.gather(*(one() for _ in range(count)))
    print("ready", flush=True)
    await stop.wait()
    still_open = sum(not task.done() for task in tasks)
    ended = [task.result() for task in tasks if task.done() and not task.exception()]
    print(json.dumps({"opened": count, "still_open": still_open, "ended": ended[:5]}), flush=True)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return 0 if still_open == count else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.subscribers", description=__doc__)
    parser.add_argument("--url", required=True, help="the gateway's GraphQL URL (http://…)")
    parser.add_argument("--order-id", required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50, help="opened at once")
    args = parser.parse_args(argv)
    url = args.url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
    # The token comes through the environment, not argv, where any `ps` would show it.
    token = os.environ["SHOP_BENCH_TOKEN"]
    return asyncio.run(run(url, token, args.order_id, args.count, args.concurrency))


if __name__ == "__main__":
    sys.exit(main())
