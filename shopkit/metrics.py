"""Prometheus metrics shared by every service (one registry per process)."""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

REQUESTS = Counter("http_requests_total", "HTTP requests", ["service", "route", "status"])
LATENCY = Histogram("http_request_seconds", "HTTP request latency", ["service", "route"])
EVENTS_PUBLISHED = Counter("events_published_total", "Events relayed to Kafka", ["service", "type"])
EVENTS_HANDLED = Counter("events_handled_total", "Events handled by consumers", ["service", "type"])
# A consumer retries a failing event for as long as it fails (see shopkit.events.kafka): how
# many are waiting for their next attempt now, and how many attempts failed, by cause
# ("unavailable": an engine or a service did not answer; "error": anything else).
EVENTS_RETRYING = Gauge(
    "events_retrying", "Events waiting for another attempt", ["service", "cause"]
)
EVENT_RETRIES = Counter(
    "event_retries_total", "Failed attempts at handling an event", ["service", "type", "cause"]
)
# Events that can never succeed (not a CloudEvent, against their JSON Schema, or rejected by
# their handler), parked on <topic>.dlq; `python -m shopkit.events.replay` re-delivers them.
EVENTS_PARKED = Counter(
    "events_parked_total", "Events parked on a dead-letter topic", ["service", "type", "reason"]
)


KNOWN_PATHS = frozenset({"/graphql", "/healthz", "/readyz", "/metrics", "/.well-known/jwks.json"})


def route_label(path: str) -> str:
    """A bounded set of labels: anyone can send any path, and each label value is a new
    time series kept for the life of the process."""
    if path in KNOWN_PATHS:
        return path
    if path == "/api" or path.startswith("/api/"):
        return "/api/*"
    return "other"


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = route_label(scope["path"])
        status = {"code": 500}

        async def capture(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, capture)
        finally:
            LATENCY.labels(self.service, route).observe(time.perf_counter() - started)
            REQUESTS.labels(self.service, route, str(status["code"])).inc()


async def metrics_endpoint(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
