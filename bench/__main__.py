"""The benchmark of the product: ``python -m bench`` (``make bench``; README, Performance).

It starts a stack of its own on free ports (``stack.local.LocalStack``, light engines unless
``--engines real``) or measures a running one (``--url``), makes the data it reads through the
gateway, and prints each figure as a ratio of two throughputs or latencies taken side by side
in the same run, so that the figures hold on a shared, noisy machine:

1. subgraph efficiency: ``items(first: 20)`` on the items subgraph (one uvicorn worker,
   saturated) / Strawberry's in-process ceiling for it (bench/ceiling.py); the bare-Starlette
   floor for the same bytes beside it (bench/floor.py);
2. catalog reads: anonymous ``items(first: 20)`` and ``item(id)`` through the gateway /
   the gateway's ``{ __typename }``, and how long a price or stock change takes to show;
3. gateway overhead: p50 and p99 through the gateway / direct to the subgraph, one request
   at a time, for a single-subgraph query of each subgraph;
4. federation cost: p50 of the flagship order query (20 lines) / p50 of the slowest
   subgraph call of its plan, and its saturated throughput;
5. checkout under load: N = 50 and 200 customers at once on two hot items, then on a spread
   catalog; then ``make reconcile``'s check of the books;
6. variants of the flagship order query's saturated throughput: tracing on (exporting to an
   OTLP receiver in this process) / off, and with 1,000 idle ``orderStatusChanged``
   subscriptions open (bench/subscribers.py) / none. Needs the benchmark's own stack.

The load generator is wrk (bench/load.py), whose CPU is printed beside each figure; the
checkouts' client is Python (bench/checkout.py). ``--profile`` samples the subgraphs with
py-spy during phases 1-5 and prints where their time goes (bench/profile.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import select
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import checkout, load
from bench.load import Request
from bench.profile import node_profiling, sampling, summarize, summarize_node
from bench.shop import (
    ITEM,
    ITEMS_PAGE,
    ME,
    ORDER_FLAGSHIP,
    ORDER_ONLY,
    PAYMENT_ONLY,
    TYPENAME,
    Client,
    Fixture,
    Shop,
    prepare,
)
from stack.local import SUBGRAPHS, LocalStack, Ports, uvicorn_command
from stack.process import REPO_ROOT, free_port, http_ok, spawn
from tests.support.otlp import OtlpReceiver


class Bench:
    def __init__(self, shop: Shop, args: argparse.Namespace, out: Path) -> None:
        self.shop = shop
        self.args = args
        self.out = out
        self.saturated_seconds = 2.0 if args.quick else 5.0
        self.latency_seconds = 2.0 if args.quick else 4.0
        self.results: dict[str, Any] = {}
        self.profiles: dict[str, Any] = {}

    # -- helpers ------------------------------------------------------------------------

    def say(self, text: str) -> None:
        print(text, flush=True)

    def gateway(self, query: str, variables: dict | None = None, token: str | None = None):
        headers = {"authorization": f"Bearer {token}"} if token else None
        return Request(self.shop.gateway_url, query, variables, headers)

    def direct(self, subgraph: str, query: str, variables: dict | None = None, token=None):
        return Request(
            self.shop.subgraph_urls[subgraph], query, variables, self.shop.direct_headers(token)
        )

    def pids(self, *names: str) -> dict[str, int]:
        stack = self.shop.stack
        if stack is None:
            return {}
        return {name: stack.processes[name].popen.pid for name in names}

    def profiled(self, label: str, *names: str):
        """Samples the named subgraphs while the block runs, when --profile is on."""
        import contextlib

        if not self.args.profile or self.shop.stack is None:
            return contextlib.nullcontext()

        @contextlib.contextmanager
        def block():
            with sampling(self.pids(*names), self.out / "profiles", label) as paths:
                yield
            self.profiles[label] = {name: summarize(path) for name, path in paths.items()}

        return block()

    # -- 1. subgraph efficiency -----------------------------------------------------------

    def subgraph_efficiency(self) -> None:
        self.say("\n1. Subgraph efficiency: items(first: 20) on the items subgraph")
        items = self.direct("items", ITEMS_PAGE)
        answer = items.check()
        answer_file = self.out / "items-page.json"
        answer_file.write_bytes(answer)
        ceiling = self._ceiling(answer_file)
        with self.profiled("1-subgraph", "items"):
            subgraph = load.saturated(items, self.saturated_seconds)
        floor = self._floor(answer_file)
        self.results["1_subgraph_efficiency"] = r = {
            "subgraph_rps": round(subgraph.requests_per_second, 1),
            "ceiling_rps": round(ceiling, 1),
            "ratio": round(subgraph.requests_per_second / ceiling, 3),
            "floor_rps": round(floor.requests_per_second, 1),
            "subgraph_over_floor": round(
                subgraph.requests_per_second / floor.requests_per_second, 3
            ),
            "response_bytes": len(answer),
            "client_cpu": subgraph.client_cpu,
            "errors": subgraph.errors + floor.errors,
        }  # fmt: skip
        self.say(
            f"   subgraph {r['subgraph_rps']}/s  /  Strawberry ceiling {r['ceiling_rps']}/s  "
            f"= {r['ratio']}   (bare-Starlette floor for the same {len(answer)} bytes: "
            f"{r['floor_rps']}/s; wrk CPU {subgraph.client_cpu:.2f} core)"
        )

    def _ceiling(self, answer_file: Path) -> float:
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.ceiling",
                str(answer_file),
                "--query",
                ITEMS_PAGE,
                "--seconds",
                str(self.saturated_seconds),
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return float(json.loads(completed.stdout.strip().splitlines()[-1])["ops_per_second"])

    def _floor(self, answer_file: Path) -> load.Result:
        port = free_port()
        process = spawn(
            "bench-floor",
            uvicorn_command("bench.floor:create_app", port),
            log_dir=self.out,
            env={"BENCH_FLOOR_BODY": str(answer_file)},
        )
        try:
            process.wait_until(
                lambda: http_ok(f"http://127.0.0.1:{port}/graphql") or _answers_post(port),
                timeout=30,
                hint="the floor app did not start",
            )
            floor = Request(f"http://127.0.0.1:{port}/graphql", ITEMS_PAGE)
            return load.saturated(floor, self.saturated_seconds)
        finally:
            process.stop()

    # -- 2. catalog reads ---------------------------------------------------------------

    def catalog_reads(self, fixture: Fixture) -> None:
        self.say("\n2. Catalog reads through the gateway (anonymous)")
        typename = load.saturated(self.gateway(TYPENAME), self.saturated_seconds)
        with self.profiled("2-catalog", "items"):
            page = load.saturated(self.gateway(ITEMS_PAGE), self.saturated_seconds)
            one = load.saturated(
                self.gateway(ITEM, {"id": fixture.catalog[0]}), self.saturated_seconds
            )
        staleness = asyncio.run(self._staleness(fixture))
        self.results["2_catalog_reads"] = r = {
            "typename_rps": round(typename.requests_per_second, 1),
            "items_page_rps": round(page.requests_per_second, 1),
            "item_rps": round(one.requests_per_second, 1),
            "items_page_ratio": round(page.requests_per_second / typename.requests_per_second, 3),
            "item_ratio": round(one.requests_per_second / typename.requests_per_second, 3),
            "client_cpu": max(typename.client_cpu, page.client_cpu, one.client_cpu),
            "errors": typename.errors + page.errors + one.errors,
            **staleness,
        }
        self.say(
            f"   {{ __typename }} {r['typename_rps']}/s;  items(first: 20) {r['items_page_rps']}/s "
            f"= {r['items_page_ratio']};  item(id) {r['item_rps']}/s = {r['item_ratio']}"
        )
        self.say(
            f"   a change shows after: price {staleness['price_visible_ms']} ms, "
            f"stock {staleness['stock_visible_ms']} ms, sold out {staleness['sold_out_visible_ms']}"
            f" ms (the slowest of {staleness['trials']} each, under a background read load)"
        )

    async def _staleness(self, fixture: Fixture) -> dict[str, Any]:
        """How long after a change is committed (its mutation answered) the anonymous reads
        show it: a price change, a restock, and an item selling out. Measured while wrk keeps
        reading the catalog, so a cache is warm and busy as it would be in a sale."""
        trials = 2 if self.args.quick else 4
        background = _background_wrk(self.gateway(ITEMS_PAGE), seconds=120)
        client = Client(self.shop.gateway_url)
        try:
            page = await client.data(ITEMS_PAGE)
            first_id = page["items"]["edges"][0]["node"]["id"]
            price_ms, stock_ms, sold_out_ms = [], [], []
            for trial in range(trials):
                price = 5000 + trial
                await client.data(
                    "mutation($id: ID!, $i: UpdateItemInput!) { updateItem(id: $id, input: $i) "
                    "{ id } }",
                    {"id": first_id, "i": {"unitPrice": {"amount": price, "currency": "USD"}}},
                    fixture.admin_token,
                )
                changed = time.perf_counter()
                await _until(lambda p=price: _first_price(client, first_id, p))
                price_ms.append((time.perf_counter() - changed) * 1000)

                before = await _available(client, first_id)
                await client.data(
                    "mutation($id: ID!) { restockItem(id: $id, quantity: 1) { id } }",
                    {"id": first_id},
                    fixture.admin_token,
                )
                changed = time.perf_counter()
                await _until(lambda b=before: _page_available_is(client, first_id, b + 1))
                stock_ms.append((time.perf_counter() - changed) * 1000)

                last_one = await client.create_item(fixture.admin_token, stock=1)
                assert (await _in_stock(client, last_one)) is True  # read once: now cached
                await client.create_order(fixture.customer_token, [(last_one, 1)])
                changed = time.perf_counter()
                await _until(lambda i=last_one: _not_in_stock(client, i))
                sold_out_ms.append((time.perf_counter() - changed) * 1000)
        finally:
            await client.close()
            background.terminate()
            background.wait()
        return {
            "price_visible_ms": round(max(price_ms), 1),
            "stock_visible_ms": round(max(stock_ms), 1),
            "sold_out_visible_ms": round(max(sold_out_ms), 1),
            "trials": trials,
        }

    # -- 3. gateway overhead ------------------------------------------------------------

    def gateway_overhead(self, fixture: Fixture) -> None:
        self.say("\n3. Gateway overhead, one request at a time (p50 and p99 ratios)")
        token = fixture.customer_token
        cases = [
            ("orders", "order(id)", ORDER_ONLY, {"id": fixture.order_id}),
            ("accounts", "me", ME, None),
            ("payments", "payment(id)", PAYMENT_ONLY, {"id": fixture.payment_id}),
            ("items", "items(first: 20)", ITEMS_PAGE, None),
        ]
        rows = {}
        with self.profiled("3-overhead", "orders", "accounts", "payments", "items"):
            for subgraph, label, query, variables in cases:
                direct = load.one_at_a_time(
                    self.direct(subgraph, query, variables, token), self.latency_seconds
                )
                through = load.one_at_a_time(
                    self.gateway(query, variables, token), self.latency_seconds
                )
                rows[label] = row = {
                    "gateway_p50_ms": round(through.p50_ms, 2),
                    "direct_p50_ms": round(direct.p50_ms, 2),
                    "p50_ratio": round(through.p50_ms / direct.p50_ms, 2),
                    "gateway_p99_ms": round(through.p99_ms, 2),
                    "direct_p99_ms": round(direct.p99_ms, 2),
                    "p99_ratio": round(through.p99_ms / direct.p99_ms, 2),
                    "errors": through.errors + direct.errors,
                }
                self.say(
                    f"   {label:<17} p50 {row['gateway_p50_ms']} / {row['direct_p50_ms']} ms "
                    f"= {row['p50_ratio']}x   p99 {row['gateway_p99_ms']} / "
                    f"{row['direct_p99_ms']} ms = {row['p99_ratio']}x"
                )
        self.results["3_gateway_overhead"] = rows

    # -- 4. federation cost -------------------------------------------------------------

    def federation_cost(self, fixture: Fixture) -> None:
        self.say("\n4. Federation cost of the flagship order query (20 lines)")
        token = fixture.customer_token
        account_id = httpx.post(
            self.shop.gateway_url,
            json={"query": "{ me { id } }"},
            headers={"authorization": f"Bearer {token}"},
        ).json()["data"]["me"]["id"]
        entities = "query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on %s } }"
        plan: dict[str, tuple[str, str, dict[str, Any]]] = {
            "orders": (
                "orders",
                "query($id: ID!) { order(id: $id) { __typename id status "
                "total { amount currency } lines { quantity item { __typename id } } "
                "customer { __typename id } } }",
                {"id": fixture.order_id},
            ),
            "items": (
                "items",
                entities % "Item { name upc unitPrice { amount currency } }",
                {"r": [{"__typename": "Item", "id": item} for item in fixture.catalog]},
            ),
            "payments": (
                "payments",
                entities
                % "Order { payment { status amount { amount currency } method { last4 } } }",
                {"r": [{"__typename": "Order", "id": fixture.order_id}]},
            ),
            "accounts": (
                "accounts",
                entities % "Account { email }",
                {"r": [{"__typename": "Account", "id": account_id}]},
            ),
        }
        flagship = self.gateway(ORDER_FLAGSHIP, {"id": fixture.order_id}, token)
        parts = {
            name: load.one_at_a_time(self.direct(sub, q, v, token), self.latency_seconds)
            for name, (sub, q, v) in plan.items()
        }
        whole = load.one_at_a_time(flagship, self.latency_seconds)
        with self.profiled("4-federation", "orders", "items", "payments", "accounts"):
            saturated = load.saturated(flagship, self.saturated_seconds)
        slowest = max(parts, key=lambda name: parts[name].p50_ms)
        self.results["4_federation_cost"] = r = {
            "order_p50_ms": round(whole.p50_ms, 2),
            "order_p99_ms": round(whole.p99_ms, 2),
            "parts_p50_ms": {name: round(part.p50_ms, 2) for name, part in parts.items()},
            "slowest_part": slowest,
            "ratio": round(whole.p50_ms / parts[slowest].p50_ms, 2),
            "saturated_rps": round(saturated.requests_per_second, 1),
            "saturated_p50_ms": round(saturated.p50_ms, 2),
            "client_cpu": saturated.client_cpu,
            "errors": whole.errors + saturated.errors + sum(p.errors for p in parts.values()),
        }
        self.say(
            f"   order query p50 {r['order_p50_ms']} ms / slowest part ({slowest}) "
            f"{parts[slowest].p50_ms:.2f} ms = {r['ratio']}x;  parts p50 {r['parts_p50_ms']}"
        )
        self.say(
            f"   saturated: {r['saturated_rps']}/s (p50 {r['saturated_p50_ms']} ms at 16 "
            f"connections; wrk CPU {saturated.client_cpu:.2f} core)"
        )

    # -- 6. tracing and idle subscriptions --------------------------------------------------

    def order_query_variants(self, fixture: Fixture) -> None:
        """Each variant against its baseline, alternated (off, on, off, on) so that a drift of
        the shared machine's load falls on both sides; the ratio is on / mean(off)."""
        self.say("\n6. The flagship order query with tracing on, and with 1,000 idle subscriptions")
        stack = self.shop.stack
        if stack is None:
            self.say("   skipped: needs the benchmark's own stack (not --url)")
            return
        flagship = self.gateway(ORDER_FLAGSHIP, {"id": fixture.order_id}, fixture.customer_token)
        receiver = OtlpReceiver().start()
        try:
            tracing = self._alternate(
                flagship,
                on=lambda: _restart(stack, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint),
                off=lambda: _restart(stack, OTEL_EXPORTER_OTLP_ENDPOINT=None),
            )
        finally:
            _restart(stack, OTEL_EXPORTER_OTLP_ENDPOINT=None)
            receiver.stop()
        tracing["spans_received"] = len(receiver.spans())
        services = sorted({span.service for span in receiver.spans()})
        self.say(_variant_line("tracing on / off", tracing) + f"; spans from {services}")
        idle = self._with_subscribers(flagship, fixture)
        self.say(
            _variant_line(f"{idle['subscriptions']} idle subscriptions / none", idle)
            + f"; subscriber process CPU {idle['subscriber_cpu']:.3f} core"
        )
        self.results["6_variants"] = {"tracing": tracing, "idle_subscriptions": idle}

    def _alternate(self, request: Request, on: Any, off: Any) -> dict[str, Any]:
        runs: dict[str, list[load.Result]] = {"off": [], "on": []}
        for state in ("off", "on", "off", "on"):
            (on if state == "on" else off)()
            # Warm up, unmeasured: the first answers after a restart are slower (imports,
            # connection pools, the gateway's query plan cache).
            load.saturated(request, 1.0)
            runs[state].append(load.saturated(request, self.saturated_seconds))
        return _ratios(runs)

    def _with_subscribers(self, request: Request, fixture: Fixture) -> dict[str, Any]:
        """1,000 subscriptions on the flagship order, all of its one customer: the bench
        stack raises ORDERS_SUBSCRIPTIONS_MAX_PER_ACCOUNT (start_stack), as registering 1,000
        customers would take minutes of password hashing and measure nothing more here."""
        count = SUBSCRIPTIONS
        runs: dict[str, list[load.Result]] = {"off": [], "on": []}
        cpu: list[float] = []
        load.saturated(request, 1.0)  # unmeasured: the processes were just restarted
        for state in ("off", "on", "off", "on"):
            if state == "off":
                runs[state].append(load.saturated(request, self.saturated_seconds))
                continue
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bench.subscribers",
                    "--url",
                    self.shop.gateway_url,
                    "--order-id",
                    fixture.order_id,
                    "--count",
                    str(count),
                ],
                cwd=REPO_ROOT,
                env={**os.environ, "SHOP_BENCH_TOKEN": fixture.customer_token},
                stdout=subprocess.PIPE,
                text=True,
            )
            try:
                assert process.stdout is not None
                # 1,000 WebSocket handshakes and first events: seconds, not minutes.
                if not select.select([process.stdout], [], [], 300)[0]:
                    raise RuntimeError("bench.subscribers did not get ready within 300 s")
                line = process.stdout.readline().strip()
                if line != "ready":
                    raise RuntimeError(f"bench.subscribers did not get ready: {line!r}")
                before, started = _cpu_seconds(process.pid), time.monotonic()
                runs[state].append(load.saturated(request, self.saturated_seconds))
                cpu.append((_cpu_seconds(process.pid) - before) / (time.monotonic() - started))
            finally:
                process.terminate()
                summary = process.stdout.read() if process.stdout else ""
                process.wait(timeout=60)
            if process.returncode != 0:
                raise RuntimeError(f"subscriptions ended during the measurement: {summary}")
        return {
            **_ratios(runs),
            "subscriptions": count,
            "subscriber_cpu": round(max(cpu), 3),
        }

    # -- 5. checkout under load -----------------------------------------------------------

    def checkout_under_load(self, fixture: Fixture) -> None:
        self.say("\n5. Checkout under load (register, log in, order, pay)")
        sizes = self.args.customers
        rows: dict[str, Any] = {}

        async def all_runs() -> None:
            client = Client(self.shop.gateway_url, connections=max(sizes) * 2)
            try:
                hot = [await client.create_item(fixture.admin_token, 1_000_000) for _ in range(2)]
                spread = await asyncio.gather(
                    *(client.create_item(fixture.admin_token, 1_000_000) for _ in range(40))
                )
                for n in sizes:
                    for kind, lines in (
                        ("hot", checkout.hot_lines(hot)),
                        ("spread", checkout.spread_lines(list(spread))),
                    ):
                        label = f"N={n} {kind}"
                        names = ("accounts", "orders", "payments", "items")
                        profile = n == sizes[0] and kind == "hot"
                        context = self.profiled("5-checkout", *names) if profile else _null()
                        with context:
                            rows[label] = row = await checkout.run(client, n, lines)
                        self.say(_checkout_line(label, row))
            finally:
                await client.close()

        asyncio.run(all_runs())
        self.results["5_checkout"] = rows
        self.results["5_reconcile"] = self._reconcile()

    def _reconcile(self) -> dict[str, Any]:
        completed = subprocess.run(
            [sys.executable, "-m", "ops.reconcile", "--settle", "60"],
            cwd=REPO_ROOT,
            env={**os.environ, **self.shop.env},
            capture_output=True,
            text=True,
            check=False,
        )
        lines = completed.stdout.strip().splitlines()
        self.say("   make reconcile: " + " | ".join(lines[:1] + lines[-1:]))
        return {"exit_code": completed.returncode, "output": lines[-12:]}


SUBSCRIPTIONS = 1000


def _restart(stack: LocalStack, **env: str | None) -> None:
    """Restarts the subgraphs and the gateway with ``env`` set (None: removed)."""
    for name, value in env.items():
        if value is None:
            stack.extra_env.pop(name, None)
        else:
            stack.extra_env[name] = value
    stack.processes.pop("gateway").stop()
    for name in SUBGRAPHS:
        stack.processes.pop(name).stop()
    stack.start_subgraphs(*SUBGRAPHS)
    stack.start_gateway()


def _ratios(runs: dict[str, list[load.Result]]) -> dict[str, Any]:
    off_rps = sum(r.requests_per_second for r in runs["off"]) / len(runs["off"])
    off_p50 = sum(r.p50_ms for r in runs["off"]) / len(runs["off"])
    on_rps = sum(r.requests_per_second for r in runs["on"]) / len(runs["on"])
    on_p50 = sum(r.p50_ms for r in runs["on"]) / len(runs["on"])
    return {
        "off_rps": [round(r.requests_per_second, 1) for r in runs["off"]],
        "on_rps": [round(r.requests_per_second, 1) for r in runs["on"]],
        "rps_ratio": round(on_rps / off_rps, 3),
        "off_p50_ms": round(off_p50, 2),
        "on_p50_ms": round(on_p50, 2),
        "p50_ratio": round(on_p50 / off_p50, 3),
        "client_cpu": max(r.client_cpu for rs in runs.values() for r in rs),
    }


def _variant_line(label: str, r: dict[str, Any]) -> str:
    return (
        f"   {label}: {r['on_rps']} vs {r['off_rps']} req/s = {r['rps_ratio']};  p50 "
        f"{r['on_p50_ms']} / {r['off_p50_ms']} ms = {r['p50_ratio']}"
    )


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/<pid>/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _checkout_line(label: str, row: dict[str, Any]) -> str:
    steps = "  ".join(
        f"{step} {v['p50_ms']:.0f}/{v['p99_ms']:.0f}" for step, v in row["steps"].items()
    )
    failures = row["failures"]
    detail = f" {row['failure_kinds']}" if failures else ""
    if row.get("retried"):
        detail += f" (answers retried, by code: {row['retried']})"
    return (
        f"   {label:<13} {row['checkouts_per_second']:6.2f} checkouts/s in {row['seconds']}s, "
        f"failures {failures}{detail}; p50/p99 ms: {steps}; payment->PAID p50 "
        f"{row['paid_p50_ms']} p99 {row['paid_p99_ms']} ms (never PAID: {row['never_paid']}); "
        f"client CPU {row['client_cpu']:.2f} core"
    )


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _size(path: Path) -> int:
    return path.stat().st_size


def _answers_post(port: int) -> bool:
    try:
        return httpx.post(f"http://127.0.0.1:{port}/graphql", content=b"{}").status_code == 200
    except httpx.HTTPError:
        return False


def _background_wrk(request: Request, seconds: int) -> subprocess.Popen[bytes]:
    folder = Path(tempfile.mkdtemp(prefix="shop-bench-"))
    script = folder / "request.lua"
    script.write_text(load._lua(request))
    return subprocess.Popen(
        [load.wrk_path(), "-t1", "-c4", f"-d{seconds}s", "-s", str(script), request.url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _until(check: Any, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("a change did not show in the catalog reads within 30 s")


async def _first_price(client: Client, item_id: str, price: int) -> bool:
    page, one = await asyncio.gather(client.data(ITEMS_PAGE), client.data(ITEM, {"id": item_id}))
    node = next(e["node"] for e in page["items"]["edges"] if e["node"]["id"] == item_id)
    return node["unitPrice"]["amount"] == price and one["item"]["unitPrice"]["amount"] == price


async def _available(client: Client, item_id: str) -> int:
    return (await client.data(ITEM, {"id": item_id}))["item"]["availability"]["available"]


async def _page_available_is(client: Client, item_id: str, available: int) -> bool:
    page, one = await asyncio.gather(client.data(ITEMS_PAGE), client.data(ITEM, {"id": item_id}))
    node = next(e["node"] for e in page["items"]["edges"] if e["node"]["id"] == item_id)
    return (
        node["availability"]["available"] == available
        and one["item"]["availability"]["available"] == available
    )


async def _in_stock(client: Client, item_id: str) -> bool:
    return (await client.data(ITEM, {"id": item_id}))["item"]["availability"]["inStock"]


async def _not_in_stock(client: Client, item_id: str) -> bool:
    return not await _in_stock(client, item_id)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def start_stack(engines: str, data_dir: Path, gateway_profile: Path | None) -> LocalStack:
    node_args, node_env = node_profiling(gateway_profile) if gateway_profile else ((), {})
    stack = LocalStack(
        data_dir=data_dir,
        ports=Ports(**{port: free_port() for port in vars(Ports())}),
        engines=engines,  # type: ignore[arg-type]
        extra_env={
            # One client address sends every registration and login of the benchmark.
            "SHOP_AUTH_RATE_LIMIT": "1000000",
            "SHOP_GATEWAY_LOG_LEVEL": "warn",
            # Phase 6 holds 1,000 subscriptions of one customer (the default cap is 100).
            "ORDERS_SUBSCRIPTIONS_MAX_PER_ACCOUNT": str(SUBSCRIPTIONS),
            **node_env,
        },
        gateway_node_args=node_args,
        progress=lambda line: print(line, flush=True),
    )
    stack.start()
    return stack


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--engines", choices=["light", "real"], default="light")
    parser.add_argument("--url", help="measure the shop whose gateway is at this URL instead")
    parser.add_argument("--quick", action="store_true", help="2-second runs; N = 50 only")
    parser.add_argument("--profile", action="store_true", help="py-spy the subgraphs, 1-5")
    parser.add_argument(
        "--phases", default="1,2,3,4,5,6", help="which measurements, e.g. 1,3 (default all)"
    )
    parser.add_argument("--out", type=Path, help="folder for results and profiles")
    args = parser.parse_args(argv)
    args.phases = {int(p) for p in args.phases.split(",") if p}
    args.customers = [50] if args.quick else [50, 200]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or REPO_ROOT / ".data" / "bench" / f"{stamp}-{args.engines}"
    out.mkdir(parents=True, exist_ok=True)
    load.wrk_path()
    started = time.monotonic()
    header = {
        "date": stamp,
        "engines": args.engines if not args.url else f"given: {args.url}",
        "machine": machine(),
        "load_average_before": os.getloadavg(),
        "load_generator": "wrk 4.1 (one thread) for 1-4 and 6; Python httpx/asyncio for 5",
    }
    print(json.dumps(header), flush=True)
    stack = None
    try:
        if args.url:
            shop = Shop.at(args.url)
        else:
            print(f"Starting a stack ({args.engines} engines) on free ports ...", flush=True)
            gateway_profile = out / "profiles" / "gateway" if args.profile else None
            stack = start_stack(
                args.engines, Path(tempfile.mkdtemp(prefix="shop-bench-")), gateway_profile
            )
            shop = Shop.of_stack(stack)
        bench = Bench(shop, args, out)

        async def fixture() -> Fixture:
            client = Client(shop.gateway_url)
            try:
                return await prepare(client, shop, stamp.lower())
            finally:
                await client.close()

        data = asyncio.run(fixture())
        if 1 in args.phases:
            bench.subgraph_efficiency()
        if 2 in args.phases:
            bench.catalog_reads(data)
        if 3 in args.phases:
            bench.gateway_overhead(data)
        if 4 in args.phases:
            bench.federation_cost(data)
        if 5 in args.phases:
            bench.checkout_under_load(data)
        if 6 in args.phases:
            bench.order_query_variants(data)
    finally:
        if stack is not None:
            stack.stop()
    if args.profile and stack is not None:
        # Written by the gateway as it exited; the largest is the gateway's (not compose's).
        written = sorted((out / "profiles" / "gateway").glob("*.cpuprofile"), key=_size)
        if written:
            bench.profiles["gateway (whole run)"] = {"gateway": summarize_node(written[-1])}
    header["load_average_after"] = os.getloadavg()
    header["seconds"] = round(time.monotonic() - started)
    report = {**header, "results": bench.results, "profiles": bench.profiles}
    (out / "results.json").write_text(json.dumps(report, indent=2))
    if bench.profiles:
        print("\nWhere the subgraphs' CPU went (py-spy, share of samples by package):")
        for label, by_process in bench.profiles.items():
            for name, summary in by_process.items():
                packages = summary.get("packages", {})
                shares = ", ".join(f"{k} {v:.0%}" for k, v in list(packages.items())[:7])
                shares = shares or summary.get("note", "")
                print(f"   {label} {name} ({summary.get('samples', 0)} samples): {shares}")
                top = ", ".join(
                    f"{k} {v:.0%}" for k, v in list(summary.get("functions", {}).items())[:4]
                )
                print(f"      busiest: {top}")
    print(
        f"\nload average before {header['load_average_before']}, after "
        f"{header['load_average_after']}; {header['seconds']} s; results in {out}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
