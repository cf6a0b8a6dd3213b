"""Live order status across processes and over time, on ``shop`` (with this module's cap and
token lifetime, tests/e2e/conftest.py): two orders processes behind the gateway (the
subscriber on one, the payment event consumed by the other), the cap on one client's
subscriptions, a token that expires during a subscription, and restarts of orders and of the
gateway (the client is told; subscribing again resumes with the current status)."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
import websockets

from stack.local import LocalStack, uvicorn_command
from stack.process import Process, free_port, http_ok, spawn
from subgraphs.accounts.service.tokens import KEY_FILE, SigningKey, TokenIssuer
from tests.e2e.client import Gateway, eventually
from tests.e2e.conftest import PER_ACCOUNT, TOKEN_TTL
from tests.e2e.live import Subscriber, new_order, pay_while_subscribed, subscribe
from tests.e2e.test_user_flow import CARD_OK, pay, wait_for_status
from tests.support import graphql_ws
from tests.support.documents import ORDER_STATUS_CHANGED

pytestmark = pytest.mark.e2e

# The lifetime of the token that expires during a subscription: long enough for the
# subscription to be served first (under a second on this machine), short enough not to wait.
EXPIRES_IN = 8


@pytest.fixture(scope="module")
def second_orders(shop: LocalStack) -> Iterator[str]:
    """Another orders process on the same keyspace and consumer group, not behind the
    gateway; its /metrics URL."""
    port = free_port()
    argv = uvicorn_command("subgraphs.orders.app:create_app", port)  # served as the others
    process: Process = spawn("orders-2", argv, log_dir=shop.log_dir, env=shop.env())
    process.wait_until(
        lambda: http_ok(f"http://127.0.0.1:{port}/healthz"),
        timeout=90,
        hint="the second orders process did not answer /healthz.",
    )
    yield f"http://127.0.0.1:{port}/metrics"
    process.stop()


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
    gateway, second_orders
):
    """Orders' payment consumers share one group, so which process applies a payment depends
    on the partition; payments are made until the second process (not behind the gateway)
    has applied one, and every subscriber (all on the first) must hear PAID each time."""
    customer = await gateway.register(f"r{uuid.uuid4().hex[:8]}@e2e.test")
    before = await payments_handled(second_orders)
    for attempt in range(20):
        await pay_while_subscribed(gateway, customer, await new_order(gateway, customer), 10)
        # The second process's count moves only if it applied this payment.
        await asyncio.sleep(0.5)
        if await payments_handled(second_orders) > before:
            print(f"\nthe second orders process applied payment {attempt + 1}")
            return
    pytest.fail("the second orders process never applied a payment in 20 attempts")


async def test_a_client_past_its_cap_is_refused_and_its_open_ones_go_on(gateway):
    customer = await gateway.register(f"cap{uuid.uuid4().hex[:8]}@e2e.test")
    order_id = await new_order(gateway, customer)
    # Orders' own fields only: the cap is orders', and 50 entity calls to payments per event
    # would test payments under load instead.
    results: dict[str, list[dict]] = {}
    async with websockets.connect(
        gateway.url.replace("http://", "ws://"),
        subprotocols=[graphql_ws.SUBPROTOCOL],
        additional_headers={"authorization": f"Bearer {customer}"},
        max_queue=None,
    ) as socket:
        await graphql_ws.initialised(socket)
        for n in range(1000):
            await graphql_ws.subscribe(socket, ORDER_STATUS_CHANGED, {"id": order_id}, str(n))
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
        async with subscribe(gateway, "sse", order_id, customer) as live:
            try:
                await live.wait_for("PENDING_PAYMENT", timeout=10)
                return True
            except AssertionError as refused:
                print(f"\nnot served yet: {refused}")
                return False

    assert await eventually(served_again, timeout=30, interval=1)


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def expiring_soon(stack: LocalStack, issued: str, seconds: int) -> str:
    """The account of ``issued``, a token accounts gave, in a token that expires ``seconds``
    from now, signed as accounts signs its own: by its ``TokenIssuer`` with its key (the one it
    generated into the stack's data folder and publishes at its JWKS), with the same issuer,
    audience, subject and role. The gateway and orders verify it as any other; only the
    lifetime is shorter than accounts may be configured to give (60 s at least), so a test of
    what happens at the expiry does not wait a minute."""
    claims = claims_of(issued)
    key = SigningKey.from_pem((stack.data_dir / KEY_FILE).read_bytes())
    issuer = TokenIssuer(key, issuer=claims["iss"], audience=claims["aud"], ttl_seconds=seconds)
    token, _ = issuer.issue(claims["sub"], claims["role"])
    return token


async def test_accounts_gives_tokens_of_the_configured_lifetime(gateway):
    token = await gateway.register(f"ttl{uuid.uuid4().hex[:8]}@e2e.test")
    claims = claims_of(token)
    assert claims["exp"] - claims["iat"] == TOKEN_TTL, claims


async def ended_at_expiry(shop: LocalStack, gateway: Gateway, transport: str) -> None:
    customer = await gateway.register(f"exp{uuid.uuid4().hex[:8]}@e2e.test")
    order_id = await new_order(gateway, customer)
    token = expiring_soon(shop, customer, EXPIRES_IN)
    expires_at = claims_of(token)["exp"]
    async with subscribe(gateway, transport, order_id, token) as live:
        # Served first: the token is valid when the subscription starts.
        await live.wait_for("PENDING_PAYMENT", timeout=EXPIRES_IN - 1)
        await live.wait_ended(timeout=EXPIRES_IN + 15)
    ended_at = time.time()
    assert live.statuses == ["PENDING_PAYMENT"], (transport, live.results)
    codes = [e["extensions"]["code"] for e in live.errors]
    assert codes == ["UNAUTHENTICATED"], (transport, live.results)
    assert "expired" in live.errors[0]["message"], transport
    assert ended_at >= expires_at, transport  # at the expiry, not before


async def test_a_token_that_expires_during_the_subscription_closes_it(shop, gateway):
    """Over SSE and over WebSocket, side by side: each waits EXPIRES_IN seconds."""
    await asyncio.gather(*(ended_at_expiry(shop, gateway, t) for t in ("sse", "ws")))


async def ended_by_a_stop(
    stack: LocalStack, gateway: Gateway, transport: str, process: str, ended_within: float
) -> tuple[str, str, Subscriber]:
    """A new customer's new order, subscribed to over ``transport``; once its first status has
    come, ``process`` is stopped and the stream must end within ``ended_within`` seconds. The
    customer's token, the order id and the ended subscription (its results, to check)."""
    customer = await gateway.register(f"stop{uuid.uuid4().hex[:8]}@e2e.test")
    order_id = await new_order(gateway, customer)
    async with subscribe(gateway, transport, order_id, customer) as live:
        await live.wait_for("PENDING_PAYMENT", timeout=15)
        await asyncio.to_thread(stack.processes[process].stop)
        await live.wait_ended(timeout=ended_within)
    return customer, order_id, live


@pytest.mark.parametrize("transport", ["sse", "ws"])
async def test_an_orders_restart_tells_the_client_and_a_new_subscription_resumes(
    shop, gateway, second_orders, transport
):
    customer, order_id, live = await ended_by_a_stop(
        shop, gateway, transport, "orders", ended_within=10
    )
    assert [e["extensions"]["code"] for e in live.errors] == ["SERVICE_UNAVAILABLE"], live.results
    assert "subscribe again" in live.errors[0]["message"]
    await asyncio.to_thread(shop.start_subgraph, "orders")
    answer = await pay(gateway, customer, order_id, CARD_OK)
    assert answer["data"]["submitPayment"]["status"] == "SUCCEEDED", answer
    await wait_for_status(gateway, customer, order_id, "PAID")  # then subscribe again
    async with subscribe(gateway, transport, order_id, customer) as again:
        await again.wait_for("PAID", timeout=15)
        assert again.statuses[0] == "PAID"  # the current status first


@pytest.mark.parametrize("transport", ["sse", "ws"])
async def test_a_gateway_restart_ends_the_stream_and_a_new_subscription_resumes(
    shop, gateway, transport
):
    customer, order_id, live = await ended_by_a_stop(
        shop, gateway, transport, "gateway", ended_within=15
    )
    if transport == "ws":
        # The socket is closed with a code that says why (1001: going away), not dropped.
        closed = live.results[-1][1].get("closed", {})
        print(f"\nthe gateway closed the socket with {closed}")
        assert closed.get("code") in (1001, 1012), live.results
    await asyncio.to_thread(shop.start_gateway)
    async with subscribe(gateway, transport, order_id, customer) as again:
        await again.wait_for("PENDING_PAYMENT", timeout=15)
