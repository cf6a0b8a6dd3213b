"""Tracing off (no endpoint) costs nothing, and the request id reaches logs and events.

Tracing on is proven end to end in ``tests/e2e/test_tracing.py``: the tracer provider is
process-wide, so it is not switched on in the test process here."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shopkit import tracing
from shopkit.service_client import ServiceClient
from shopkit.settings import ServiceSettings
from shopkit.tracing import (
    LogCorrelation,
    RequestIdMiddleware,
    configure_tracing,
    consuming,
    event_headers,
    publishing,
)

ROOT = Path(__file__).resolve().parents[2]


def test_without_an_endpoint_no_part_of_the_sdk_is_loaded_or_installed():
    """A subgraph app built without OTEL_EXPORTER_OTLP_ENDPOINT: no SDK module imported, no
    tracer provider, no ASGI middleware, no GraphQL extension."""
    script = textwrap.dedent(
        """
        import os, sys
        os.environ.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
        from opentelemetry import trace
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
        from subgraphs.orders.app import create_app
        from subgraphs.orders.graphql.schema import schema
        app = create_app()
        loaded = sorted(m for m in sys.modules if m.startswith(("opentelemetry.sdk",
            "opentelemetry.exporter", "opentelemetry.instrumentation.httpx")))
        assert loaded == [], loaded
        assert type(trace.get_tracer_provider()).__name__ == "ProxyTracerProvider"
        assert all(m.cls is not OpenTelemetryMiddleware for m in app.user_middleware)
        names = [type(e).__name__ for e in schema.get_extensions()]
        assert "GraphQLTracing" not in names, names
        print("off")
        """
    )
    env = {"PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "off", result.stderr


def test_the_endpoint_is_the_standard_variable():
    settings = ServiceSettings.model_validate({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://j:4318"})
    assert settings.tracing_endpoint == "http://j:4318"
    assert configure_tracing("probe", "") is False
    assert tracing.tracing_enabled() is False
    assert tracing.graphql_extensions() == []


def test_off_events_carry_only_the_request_id_and_the_relay_sends_the_rows_headers():
    headers = {"x-request-id": "r-1"}
    with publishing("shop.order", headers) as sent:
        assert sent is headers
    assert "traceparent" not in event_headers()


async def test_the_request_id_reaches_the_log_lines_and_the_events_of_the_request(caplog):
    seen: dict[str, Any] = {}

    async def endpoint(request: Request) -> JSONResponse:
        logging.getLogger("probe").warning("handled")
        seen.setdefault("headers", []).append(event_headers())
        return JSONResponse({})

    app = Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])])
    app.add_middleware(RequestIdMiddleware)
    handler = caplog.handler
    handler.addFilter(LogCorrelation())
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
            caplog.set_level(logging.WARNING, logger="probe")
            ok = await client.post("/graphql", headers={"x-request-id": "3f2a-req"})
            bad = await client.post("/graphql", headers={"x-request-id": "a b\tc" + "x" * 200})
    finally:
        handler.removeFilter(handler.filters[-1])
    assert seen["headers"] == [{"x-request-id": "3f2a-req"}, {}]
    assert ok.status_code == bad.status_code == 200
    first, second = [r for r in caplog.records if r.name == "probe"]
    assert getattr(first, "request_id", None) == "3f2a-req"
    assert not hasattr(second, "request_id"), "a value that is not an id is not logged"


def test_a_consumer_handles_an_event_with_the_request_id_it_carries():
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep()
    keep.addFilter(LogCorrelation())
    logger = logging.getLogger("probe.consumer")
    logger.addHandler(keep)
    try:
        with consuming("orders", "payment.succeeded", "e-1", {"x-request-id": "req-9"}):
            assert event_headers() == {"x-request-id": "req-9"}
            logger.warning("handling")
        logger.warning("after")
    finally:
        logger.removeHandler(keep)
    assert [getattr(r, "request_id", None) for r in records] == ["req-9", None]


async def test_a_call_to_another_service_carries_the_request_id_on():
    """Orders calling items for a request: items' log lines of the call get the same id."""
    sent: list[httpx.Headers] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers)
        return httpx.Response(200, json={"data": {"ok": True}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        client = ServiceClient(
            url="http://items/graphql", caller="orders", secret="s" * 32, http=http
        )
        with consuming("orders", "payment.succeeded", "e-2", {"x-request-id": "req-7"}):
            await client.execute("{ ok }")
        await client.execute("{ ok }")
    assert [h.get("x-request-id") for h in sent] == ["req-7", None]
