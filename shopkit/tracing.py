"""Distributed tracing (OpenTelemetry), set up once for every subgraph, and the request id.

Tracing is on when the standard ``OTEL_EXPORTER_OTLP_ENDPOINT`` variable is set: spans go over
OTLP/HTTP (protobuf) to ``<endpoint>/v1/traces``, batched. When it is unset nothing of the SDK
is imported or installed: no tracer provider, no ASGI middleware, no GraphQL extension, no
driver instrumentation; what remains on the hot path is a check of one module flag.

What is traced when it is on (``configure_tracing``, once per process):

* every HTTP request (the ASGI middleware, continuing a W3C ``traceparent`` sent by the
  gateway; a malformed one is ignored and a new trace starts) and its GraphQL operation and
  resolvers (``GraphQLTracing``, which records no resolver arguments and no query text: a
  card number, a CVC or a password must not reach a trace any more than a log);
* the calls between services and to the card processor (httpx), MongoDB (pymongo, under
  motor) and the SQL databases (SQLAlchemy; statements without their parameters). The CQL
  driver (acsylla) has no instrumentation;
* events: the trace context of the change is written into each outbox row's headers with the
  event (``event_headers``), so the row carries it across a restart; the relay publishes the
  row under a producer span continuing it (``publishing``), the Kafka record carries that span
  in its ``traceparent`` header, and the consumer handles the event under a consumer span
  continuing it (``consuming``). A payment's ``PAID`` update in orders therefore hangs under
  the ``submitPayment`` that caused it.

The request id is the gateway's (``x-request-id``, forwarded to every subgraph): the kit's
middleware keeps it for the request, the event headers carry it on to consumers, and every log
line written meanwhile carries it and the trace id (``LogCorrelation``).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Generator, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-request-id"
# Paths polled by orchestrators and Prometheus: a trace each would drown the useful ones.
UNTRACED_PATHS = "healthz,readyz,metrics"
# The gateway makes a UUID; anything else a caller sends is kept only if it looks like an id.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

_request_id: ContextVar[str | None] = ContextVar("shop_request_id", default=None)
_service: str | None = None  # set once tracing is configured in this process


def tracing_enabled() -> bool:
    return _service is not None


def configure_tracing(service: str, endpoint: str) -> bool:
    """Installs the tracer provider, the OTLP exporter to ``endpoint`` (the settings'
    ``OTEL_EXPORTER_OTLP_ENDPOINT``) and the driver instrumentations when ``endpoint`` is set;
    answers whether tracing is on. Once per process: the provider and the instrumentations
    are process-wide."""
    global _service
    if _service is not None:
        return True
    if not endpoint:
        return False
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": f"shop-{service}"}))
    # The other OTEL_EXPORTER_OTLP_* variables (headers, timeout) the exporter reads itself.
    traces = f"{endpoint.rstrip('/')}/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces)))
    trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument()
    PymongoInstrumentor().instrument()
    SQLAlchemyInstrumentor().instrument(enable_commenter=False)
    _service = service
    log.info("tracing on", extra={"endpoint": traces})
    return True


def flush_traces() -> None:
    """Sends the spans still batched (at shutdown, so the last requests are not lost)."""
    if not tracing_enabled():
        return
    from opentelemetry import trace

    flush = getattr(trace.get_tracer_provider(), "force_flush", None)
    if flush is not None:
        flush(5000)


def trace_requests(app: Starlette) -> None:
    """Puts ``app`` under the OpenTelemetry ASGI middleware when tracing is on (call it after
    the other middleware, so that it is the outermost): one server span a request, continuing
    the caller's ``traceparent`` when it is valid, a new trace when it is absent or
    malformed."""
    if not tracing_enabled():
        return
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    app.add_middleware(OpenTelemetryMiddleware, excluded_urls=UNTRACED_PATHS)


def graphql_extensions() -> list[Any]:
    """The Strawberry extensions of tracing: none when it is off (a resolver hook on every
    field is not free)."""
    if not tracing_enabled():
        return []
    return [_graphql_tracing()]


def _graphql_tracing() -> Any:
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind
    from strawberry.extensions import LifecycleStep
    from strawberry.extensions.tracing import OpenTelemetryExtension

    class GraphQLTracing(OpenTelemetryExtension):
        """Strawberry's spans (operation, parsing, validation, one per resolver), without
        what a request carries: the operation span gets no ``query`` attribute (literals are
        in it) and resolver spans no arguments (``arg_filter`` drops them all)."""

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(arg_filter=lambda _args, _info: {}, **kwargs)

        def on_operation(self) -> Generator[None, None, None]:
            name = self.execution_context.operation_name
            span = self._tracer.start_span(
                f"GraphQL Operation: {name}" if name else "GraphQL Operation",
                kind=SpanKind.SERVER,
            )
            span.set_attribute("component", "graphql")
            self._span_holder[LifecycleStep.OPERATION] = span
            with trace.use_span(span, end_on_exit=False):
                yield
            if not name and self.execution_context.operation_name:
                span.update_name(f"GraphQL Operation: {self.execution_context.operation_name}")
            span.end()

    return GraphQLTracing


# --- the request id ---------------------------------------------------------------------


def request_id_headers() -> dict[str, str]:
    """The request id to send on with a call to another service (``ServiceClient``), so that
    the callee's log lines of the call carry it too."""
    request_id = _request_id.get()
    return {} if request_id is None else {REQUEST_ID_HEADER: request_id}


def _usable_request_id(value: str | None) -> str | None:
    return value if value is not None and _REQUEST_ID.fullmatch(value) else None


class RequestIdMiddleware:
    """Keeps the gateway's ``x-request-id`` for the request, for its log lines and the events
    it emits. A value that does not look like an id is dropped, not logged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = _usable_request_id(raw.decode("latin-1") if raw else None)
        token = _request_id.set(request_id)
        if request_id is not None and tracing_enabled():
            from opentelemetry import trace

            # On the request's server span: a trace is found from the id a client quotes.
            trace.get_current_span().set_attribute("shop.request_id", request_id)
        try:
            await self.app(scope, receive, send)
        finally:
            _request_id.reset(token)


class LogCorrelation(logging.Filter):
    """Adds ``trace_id`` and ``request_id`` to every record written while a request (or an
    event it caused) is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = _request_id.get()
        if request_id is not None:
            record.request_id = request_id
        if tracing_enabled():
            from opentelemetry import trace

            context = trace.get_current_span().get_span_context()
            if context.is_valid:
                record.trace_id = format(context.trace_id, "032x")
                record.span_id = format(context.span_id, "016x")
        return True


# --- events -------------------------------------------------------------------------------


def event_headers() -> dict[str, str]:
    """The headers an event gets when it is built, to be written with it in the outbox: the
    current trace context (W3C ``traceparent``/``tracestate``) and the request id."""
    headers = request_id_headers()
    if tracing_enabled():
        from opentelemetry import propagate

        propagate.inject(headers)
    return headers


@contextlib.contextmanager
def publishing(topic: str, headers: Mapping[str, str]) -> Iterator[Mapping[str, str]]:
    """A producer span for sending one outbox row, continuing the context stored with it;
    yields the headers to send (the row's, with ``traceparent`` now naming this span)."""
    if not tracing_enabled():
        yield headers
        return
    from opentelemetry import propagate, trace
    from opentelemetry.trace import SpanKind

    parent = propagate.extract(headers)
    tracer = trace.get_tracer("shopkit.events")
    with tracer.start_as_current_span(
        f"{topic} publish",
        context=parent,
        kind=SpanKind.PRODUCER,
        attributes={"messaging.system": "kafka", "messaging.destination.name": topic},
    ):
        sent = dict(headers)
        propagate.inject(sent)
        yield sent


@contextlib.contextmanager
def consuming(
    group: str, event_type: str, event_id: str, headers: Mapping[str, str]
) -> Iterator[None]:
    """Handles one event under a consumer span continuing the producer's context, with the
    request id of the request that caused it."""
    token = _request_id.set(_usable_request_id(headers.get(REQUEST_ID_HEADER)))
    try:
        if not tracing_enabled():
            yield
            return
        from opentelemetry import propagate, trace
        from opentelemetry.trace import SpanKind

        tracer = trace.get_tracer("shopkit.events")
        with tracer.start_as_current_span(
            f"{event_type} process",
            context=propagate.extract(headers),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.consumer.group.name": group,
                "messaging.message.id": event_id,
            },
        ):
            yield
    finally:
        _request_id.reset(token)
