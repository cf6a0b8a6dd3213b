"""Checkout under load: N customers at once, each registering, logging in, ordering and
paying, on two hot items or on a spread catalog.

The client is Python (httpx on asyncio), not wrk: each customer is a sequence of dependent
requests. Its CPU is reported beside the figures. Like a real client it retries what the
error catalogue says to retry (SERVICE_UNAVAILABLE, IDEMPOTENCY_IN_PROGRESS) and a dropped
connection, with the same idempotency key; how many answers were retried, by code, is
reported beside the failures (checkouts that did not complete, and why).

Payment -> PAID propagation is read from the shop's own clocks after the run, not by polling
during it (polling 200 orders would load the gateway more than the checkouts do): the
payment's ``updatedAt`` (when it SUCCEEDED) and the time of the order's PAID entry in its
``history``.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from bench.shop import Client, ShopError

STEPS = ("register", "login", "createOrder", "submitPayment")
RETRY_FOR = 120.0  # seconds a step keeps retrying SERVICE_UNAVAILABLE
SETTLED = (
    "query($o: ID!, $p: ID!) { order(id: $o) { status history { edges { node { status at } } } } "
    "payment(id: $p) { status updatedAt } }"
)


@dataclass
class Checkout:
    email: str
    token: str | None = None
    order_id: str | None = None
    payment_id: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # retries included
    retries: dict[str, int] = field(default_factory=dict)  # retried answers, by code
    failure: str | None = None  # "<step>: <code>"


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def _step(checkout: Checkout, step: str, call: Any) -> Any:
    """One step, retried as the catalogue says a client should, after a jittered back-off
    (0.5 s doubling to 4 s) for up to RETRY_FOR s: SERVICE_UNAVAILABLE ("try again shortly"),
    IDEMPOTENCY_IN_PROGRESS (the same payment still running) and a dropped connection.
    createOrder and submitPayment are retried with the same idempotency key, so a retry
    never doubles them. Any other error, or one past that time, fails the checkout."""
    started = time.perf_counter()
    try:
        for attempt in range(1000):
            try:
                return await call()
            except (ShopError, httpx.TransportError) as exc:
                retryable = isinstance(exc, httpx.TransportError) or exc.retryable
                if not retryable or time.perf_counter() - started > RETRY_FOR:
                    codes = getattr(exc, "codes", None) or [type(exc).__name__]
                    checkout.failure = f"{step}: {codes[0]} {str(exc)[:200]}"
                    raise
                kind = codes_of(exc)
                checkout.retries[kind] = checkout.retries.get(kind, 0) + 1
                await asyncio.sleep(random.uniform(0.5, 1.5) * min(4.0, 0.5 * 2**attempt))
            except Exception as exc:
                checkout.failure = f"{step}: {type(exc).__name__} {str(exc)[:200]}"
                raise
    finally:
        checkout.seconds[step] = time.perf_counter() - started


def codes_of(exc: Exception) -> str:
    if isinstance(exc, ShopError) and exc.codes:
        return exc.codes[0]
    return type(exc).__name__


async def one_checkout(client: Client, checkout: Checkout, lines: list[tuple[str, int]]) -> None:
    order_key, payment_key = uuid.uuid4().hex, uuid.uuid4().hex
    try:
        await _step(checkout, "register", lambda: client.register(checkout.email))
        checkout.token = await _step(checkout, "login", lambda: client.login(checkout.email))
        token = checkout.token
        checkout.order_id = await _step(
            checkout, "createOrder", lambda: client.create_order(token, lines, order_key)
        )
        order_id = checkout.order_id
        payment = await _step(
            checkout, "submitPayment", lambda: client.pay(token, order_id, payment_key)
        )
        checkout.payment_id = payment["id"]
        if payment["status"] != "SUCCEEDED":
            checkout.failure = f"submitPayment: status {payment['status']}"
    except Exception:
        pass  # recorded in checkout.failure


async def _settled(client: Client, checkout: Checkout) -> dict[str, Any] | None:
    answer = await client(
        SETTLED, {"o": checkout.order_id, "p": checkout.payment_id}, checkout.token
    )
    return answer.get("data")


async def propagation(
    client: Client, checkouts: list[Checkout], within: float
) -> tuple[list[float], int]:
    """Waits until every paid order is PAID (up to ``within`` s); returns the propagation
    latencies in seconds and how many orders never became PAID."""
    waiting = [c for c in checkouts if c.failure is None]
    latencies: list[float] = []
    deadline = time.monotonic() + within
    gate = asyncio.Semaphore(16)

    async def look(checkout: Checkout) -> bool:
        async with gate:
            data = await _settled(client, checkout)
        if not data or data["order"]["status"] != "PAID":
            return False
        history = (edge["node"] for edge in data["order"]["history"]["edges"])
        paid = next(h["at"] for h in history if h["status"] == "PAID")
        succeeded = data["payment"]["updatedAt"]
        latencies.append(
            (datetime.fromisoformat(paid) - datetime.fromisoformat(succeeded)).total_seconds()
        )
        return True

    while waiting and time.monotonic() < deadline:
        done = await asyncio.gather(*(look(c) for c in waiting))
        waiting = [c for c, ok in zip(waiting, done, strict=True) if not ok]
        if waiting:
            await asyncio.sleep(0.5)
    return latencies, len(waiting)


async def run(
    client: Client, n: int, choose_lines: Any, settle_within: float = 60.0
) -> dict[str, Any]:
    """N concurrent checkouts; ``choose_lines(i)`` gives customer i's order lines."""
    tag = uuid.uuid4().hex[:8]
    checkouts = [Checkout(email=f"c{i}.{tag}@bench.test") for i in range(n)]
    cpu_before = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(
        *(one_checkout(client, c, choose_lines(i)) for i, c in enumerate(checkouts))
    )
    wall = time.perf_counter() - started
    client_cpu = (time.process_time() - cpu_before) / wall
    latencies, never_paid = await propagation(client, checkouts, settle_within)
    failures = [c.failure for c in checkouts if c.failure]
    steps = {}
    for step in STEPS:
        took = [c.seconds[step] for c in checkouts if step in c.seconds]
        steps[step] = {
            "p50_ms": round(percentile(took, 0.5) * 1000, 1),
            "p99_ms": round(percentile(took, 0.99) * 1000, 1),
        }
    return {
        "customers": n,
        "seconds": round(wall, 2),
        "checkouts_per_second": round((n - len(failures)) / wall, 2),
        "failures": len(failures),
        "failure_kinds": dict(Counter(" ".join(f.split(" ", 2)[:2]) for f in failures)),
        "failure_examples": failures[:3],
        "retried": dict(sum((Counter(c.retries) for c in checkouts), Counter())),
        "steps": steps,
        "paid_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "paid_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "never_paid": never_paid,
        "client_cpu": round(client_cpu, 3),
    }  # fmt: skip


def hot_lines(hot: list[str]) -> Any:
    return lambda _i: [(item, 1) for item in hot]


def spread_lines(catalog: list[str], seed: int = 11) -> Any:
    rng = random.Random(seed)
    return lambda _i: [(item, 1) for item in rng.sample(catalog, 2)]
