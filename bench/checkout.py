"""Checkout under load: N customers at once, each registering, logging in, ordering and
paying, on two hot items or on a spread catalog.

The client is Python (httpx on asyncio), not wrk: each customer is a sequence of dependent
requests. Its CPU is reported beside the figures. Payment -> PAID propagation is read from the
shop's own clocks after the run, not by polling during it (polling 200 orders would load the
gateway more than the checkouts do): the payment's ``updatedAt`` (when it SUCCEEDED) and the
time of the order's PAID entry in its ``history``.
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

from bench.shop import Client

STEPS = ("register", "login", "createOrder", "submitPayment")
SETTLED = (
    "query($o: ID!, $p: ID!) { order(id: $o) { status history { status at } } "
    "payment(id: $p) { status updatedAt } }"
)


@dataclass
class Checkout:
    email: str
    token: str | None = None
    order_id: str | None = None
    payment_id: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    failure: str | None = None  # "<step>: <code>"


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def _timed(checkout: Checkout, step: str, call: Any) -> Any:
    started = time.perf_counter()
    try:
        return await call
    except Exception as exc:
        code = "ERROR"
        errors = getattr(exc, "args", [""])[0]
        if isinstance(errors, str) and "'code': '" in errors:
            code = errors.split("'code': '", 1)[1].split("'", 1)[0]
        checkout.failure = f"{step}: {code} {str(exc)[:200]}"
        raise
    finally:
        checkout.seconds[step] = time.perf_counter() - started


async def one_checkout(client: Client, checkout: Checkout, lines: list[tuple[str, int]]) -> None:
    try:
        await _timed(checkout, "register", client.register(checkout.email))
        checkout.token = await _timed(checkout, "login", client.login(checkout.email))
        checkout.order_id = await _timed(
            checkout, "createOrder", client.create_order(checkout.token, lines)
        )
        payment = await _timed(
            checkout, "submitPayment", client.pay(checkout.token, checkout.order_id)
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
        paid = next(h["at"] for h in data["order"]["history"] if h["status"] == "PAID")
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
