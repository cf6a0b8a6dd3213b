"""Live order status across processes and over time, on a stack of its own (``tuned_shop``,
which test_tracing.py shares, with this module's cap and token lifetime): two orders
processes behind the gateway (the subscriber on one, the payment event consumed by the
other), the cap on one client's subscriptions, a token that expires during a subscription,
and restarts of orders and of the gateway (the client is told; subscribing again resumes with
the current status)."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import websockets

from stack.local import LocalStack, uvicorn_command
from stack.process import Process, free_port, http_ok, spawn
from tests.e2e.client import Gateway, eventually
from tests.e2e.conftest import PER_ACCOUNT, TOKEN_TTL
from tests.e2e.live import ORDER_STATUS, Subscriber, sse, ws
from tests.e2e.test_user_flow import (
    CARD_OK,
    admin_token,
    create_item,
    create_order,
    pay,
    wait_for_status,
)
from tests.support.documents import ORDER_STATUS_CHANGED

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def live_stack(tuned_shop: LocalStack) -> LocalStack:
    """The stack with TOKEN_TTL and PER_ACCOUNT (tests/e2e/conftest.py)."""
    return tuned_shop


@pytest.fixture(scope="module")
def second_orders(live_stack: LocalStack) -> Iterator[str]:
    """Another orders process on the same keyspace and consumer group, not behind the
    gateway; its /metrics URL."""
    port = free_port()
    argv = uvicorn_command("subgraphs.orders.app:create_app", port)  # served as the others
    process: Process = spawn("orders-2", argv, log_dir=live_stack.log_dir, env=live_stack.env())
    process.wait_until(
        lambda: http_ok(f"http://127.0.0.1:{port}/healthz"),
        timeout=90,
        hint="the second orders process did not answer /healthz.",
    )
    yield f"http://127.0.0.1:{port}/metrics"
    process.stop()


@pytest.fixture(scope="module")
def live_gateway(live_stack: LocalStack) -> Gateway:
    return Gateway(live_stack.graphql_url)


async def new_order(gateway: Gateway, token: str) -> str:
    item = await create_item(gateway, await admin_token(gateway), stock=5)
    return (await create_order(gateway, token, item["id"], 1))["id"]


@pytest.fixture(scope="module", autouse=True)
async def expiring(live_gateway) -> AsyncIterator[dict[str, Subscriber]]:
    """One subscription per transport, each with a token of a new customer (valid for
    TOKEN_TTL seconds), opened before this module's first test: the tokens expire while the
    tests before the expiry tests run (the cap test alone takes longer than TOKEN_TTL), so
    the expiry tests do not wait TOKEN_TTL each. The restart tests, which end every open
    subscription, come after them."""
    opened: dict[str, Subscriber] = {}
    for transport, stream in (("sse", sse), ("ws", ws)):
        customer = await live_gateway.register(f"exp{uuid.uuid4().hex[:8]}@e2e.test")
        order_id = await new_order(live_gateway, customer)
        opened[transport] = Subscriber(
            stream(live_gateway.url, ORDER_STATUS, {"id": order_id}, customer)
        )
    # Served before any test runs (a fixture that starts a process holds up this event loop
    # meanwhile, which a connection still being opened would not survive).
    for live in opened.values():
        await live.wait_for("PENDING_PAYMENT", timeout=15)
    yield opened
    for live in opened.values():
        await live.close()


async def payments_handled(metrics_url: str) -> float:
    async with httpx.AsyncClient() as client:
        text = (await client.get(metrics_url)).text
    return sum(
        float(value)
        for value in re.findall(
            r'^events_handled_total\{[^}]*type="payment\.succeeded"[^}]*\} (\S+)$', text, re.M
        )
    )


async def test_the_subscriber_on_one_process_hears_a_payment_the_other_consumed(
    live_gateway, second_orders
):
    """Orders' payment consumers share one group, so which process applies a payment depends
    on the partition; payments are made until the second process (not behind the gateway)
    has applied one, and every subscriber (all on the first) must hear PAID each time."""
    customer = await live_gateway.register(f"r{uuid.uuid4().hex[:8]}@e2e.test")
    before = await payments_handled(second_orders)
    for attempt in range(20):
        order_id = await new_order(live_gateway, customer)
        live = Subscriber(sse(live_gateway.url, ORDER_STATUS, {"id": order_id}, customer))
        try:
            await live.wait_for("PENDING_PAYMENT", timeout=15)
            answer = await pay(live_gateway, customer, order_id, CARD_OK)
            assert answer["data"]["submitPayment"]["status"] == "SUCCEEDED", answer
            await live.wait_for("PAID", timeout=10)
        finally:
            await live.close()
        # The second process's count moves only if it applied this payment.
        await asyncio.sleep(0.5)
        if await payments_handled(second_orders) > before:
            print(f"\nthe second orders process applied payment {attempt + 1}")
            return
    pytest.fail("the second orders process never applied a payment in 20 attempts")


async def test_a_client_past_its_cap_is_refused_and_its_open_ones_go_on(live_gateway):
    customer = await live_gateway.register(f"cap{uuid.uuid4().hex[:8]}@e2e.test")
    order_id = await new_order(live_gateway, customer)
    # Orders' own fields only: the cap is orders', and 50 entity calls to payments per event
    # would test payments under load instead.
    subscribe = {"query": ORDER_STATUS_CHANGED, "variables": {"id": order_id}}
    results: dict[str, list[dict]] = {}
    async with websockets.connect(
        live_gateway.url.replace("http://", "ws://"),
        subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
        additional_headers={"authorization": f"Bearer {customer}"},
        max_queue=None,
    ) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        for n in range(1000):
            await socket.send(json.dumps({"id": str(n), "type": "subscribe", "payload": subscribe}))
        deadline = time.monotonic() + 120
        while sum(1 for r in results.values() if r) < 1000 and time.monotonic() < deadline:
            message = json.loads(await asyncio.wait_for(socket.recv(), 60))
            if message["type"] == "next":
                results.setdefault(message["id"], []).append(message["payload"])
        answered = {n: r[0] for n, r in results.items() if r}
        assert len(answered) == 1000
        served = [r for r in answered.values() if (r.get("data") or {}).get("orderStatusChanged")]
        refused = [r for r in answered.values() if r not in served]
        assert len(served) == PER_ACCOUNT
        assert len(refused) == 1000 - PER_ACCOUNT
        assert {e["extensions"]["code"] for r in refused for e in r["errors"]} == {"RATE_LIMITED"}
        assert {r["data"]["orderStatusChanged"]["status"] for r in served} == {"PENDING_PAYMENT"}
        assert not [r for r in served if r.get("errors")], served

    # Leaving frees the slots: the same client may subscribe again.
    async def served_again() -> bool:
        live = Subscriber(sse(live_gateway.url, ORDER_STATUS, {"id": order_id}, customer))
        try:
            await live.wait_for("PENDING_PAYMENT", timeout=10)
            return True
        except AssertionError as refused:
            print(f"\nnot served yet: {refused}")
            return False
        finally:
            await live.close()

    assert await eventually(served_again, timeout=30, interval=1)


@pytest.mark.parametrize("transport", ["sse", "ws"])
async def test_a_token_that_expires_during_the_subscription_closes_it(expiring, transport):
    live = expiring[transport]  # opened before the first test (the fixture says why)
    try:
        await live.wait_for("PENDING_PAYMENT", timeout=15)
        await live.wait_ended(timeout=TOKEN_TTL + 15)
    finally:
        await live.close()
    assert [e["extensions"]["code"] for e in live.errors] == ["UNAUTHENTICATED"], live.results
    assert "expired" in live.errors[0]["message"]


async def stream_of(transport: str, gateway: Gateway, order_id: str, token: str) -> Subscriber:
    stream = sse if transport == "sse" else ws
    return Subscriber(stream(gateway.url, ORDER_STATUS, {"id": order_id}, token))


@pytest.mark.parametrize("transport", ["sse", "ws"])
async def test_an_orders_restart_tells_the_client_and_a_new_subscription_resumes(
    live_stack, live_gateway, second_orders, transport
):
    customer = await live_gateway.register(f"rs{uuid.uuid4().hex[:8]}@e2e.test")
    order_id = await new_order(live_gateway, customer)
    live = await stream_of(transport, live_gateway, order_id, customer)
    try:
        await live.wait_for("PENDING_PAYMENT", timeout=15)
        await asyncio.to_thread(live_stack.processes["orders"].stop)
        await live.wait_ended(timeout=10)
    finally:
        await live.close()
    assert [e["extensions"]["code"] for e in live.errors] == ["SERVICE_UNAVAILABLE"], live.results
    assert "subscribe again" in live.errors[0]["message"]
    await asyncio.to_thread(live_stack.start_subgraph, "orders")
    answer = await pay(live_gateway, customer, order_id, CARD_OK)
    assert answer["data"]["submitPayment"]["status"] == "SUCCEEDED", answer
    await wait_for_status(live_gateway, customer, order_id, "PAID")  # then subscribe again
    again = await stream_of(transport, live_gateway, order_id, customer)
    try:
        await again.wait_for("PAID", timeout=15)
        assert again.statuses[0] == "PAID"  # the current status first
    finally:
        await again.close()


@pytest.mark.parametrize("transport", ["sse", "ws"])
async def test_a_gateway_restart_ends_the_stream_and_a_new_subscription_resumes(
    live_stack, live_gateway, transport
):
    customer = await live_gateway.register(f"gw{uuid.uuid4().hex[:8]}@e2e.test")
    order_id = await new_order(live_gateway, customer)
    live = await stream_of(transport, live_gateway, order_id, customer)
    try:
        await live.wait_for("PENDING_PAYMENT", timeout=15)
        await asyncio.to_thread(live_stack.processes["gateway"].stop)
        await live.wait_ended(timeout=15)
    finally:
        await live.close()
    if transport == "ws":
        # The socket is closed with a code that says why (1001: going away), not dropped.
        closed = live.results[-1][1].get("closed", {})
        print(f"\nthe gateway closed the socket with {closed}")
        assert closed.get("code") in (1001, 1012), live.results
    await asyncio.to_thread(live_stack.start_gateway)
    again = await stream_of(transport, live_gateway, order_id, customer)
    try:
        await again.wait_for("PENDING_PAYMENT", timeout=15)
    finally:
        await again.close()
