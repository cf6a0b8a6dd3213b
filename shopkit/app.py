"""The app factory: one Starlette app per subgraph, built the same way for all four.

Routes: ``POST /graphql`` (no GraphiQL: see ``_GraphQLApp``), ``/healthz``, ``/readyz``,
``/metrics``, and whatever REST routes the service adds. Every ``/graphql`` and ``/api``
request is authenticated first (gateway secret or service credential, then the bearer
token); the resulting ``Identity`` is on ``request.state.identity``. The kit's lifespan owns
the shared HTTP client, the token verifier and the broker's readiness check, then runs the
service's own lifespan, which opens the database, starts the outbox relay and consumers, and
registers its database's readiness check.
"""

from __future__ import annotations

import contextlib
import functools
import ssl
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import orjson
import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL

from shopkit.auth import AccessTokenVerifier, Identity, RequestAuthenticator
from shopkit.errors import ShopError
from shopkit.health import healthz, readyz, tcp_check
from shopkit.logging import configure_logging
from shopkit.metrics import MetricsMiddleware, metrics_endpoint
from shopkit.settings import ServiceSettings
from shopkit.sse import GatewaySSETransport
from shopkit.tracing import RequestIdMiddleware, configure_tracing, flush_traces, trace_requests

ContextFactory = Callable[[Request, Response | None, Identity], Any]
Lifespan = Callable[[Starlette], AbstractAsyncContextManager[None]]
PROTECTED_PREFIXES = ("/graphql", "/api/")


class _GraphQLApp(GraphQL):
    """A subgraph serves no GraphiQL: its page loaded its scripts from a CDN and, from a
    browser, could never send the gateway secret every request needs. GraphiQL is the
    gateway's (:4000); the README says how to query one subgraph alone with curl."""

    stream_transport_classes_by_protocol = {GRAPHQL_SSE_PROTOCOL: GatewaySSETransport}

    def __init__(self, schema: strawberry.Schema, context: ContextFactory):
        # Subscriptions reach a subgraph as Server-Sent Events on POST /graphql (how the
        # gateway's HTTP transport asks for them), through the same authentication as any
        # request; a subgraph serves no WebSocket (the gateway does, to clients).
        super().__init__(
            schema,
            graphql_ide=None,
            allow_queries_via_get=False,
            subscription_protocols=(GRAPHQL_SSE_PROTOCOL,),
        )
        self._context = context

    async def get_context(self, request: Any, response: Any) -> Any:
        return self._context(request, response, request.state.identity)

    def encode_json(self, data: object) -> bytes:
        """orjson, not the standard library's encoder: encoding the answer was 6% of the items
        subgraph's CPU serving a catalog page (make bench --profile, phase 1)."""
        return orjson.dumps(data)


def shop_error_response(request: Request, error: ShopError) -> JSONResponse:
    if request.url.path.startswith("/graphql"):
        body: dict[str, Any] = {
            "errors": [{"message": error.message, "extensions": error.extensions}]
        }
    else:
        body = {"error": {"message": error.message, **error.extensions}}
    return JSONResponse(body, status_code=error.http_status)


async def _handle_shop_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ShopError)
    return shop_error_response(request, exc)


class AuthenticationMiddleware:
    """Puts the caller's ``Identity`` on ``request.state`` or answers 401/403."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PROTECTED_PREFIXES):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if scope["path"] == "/graphql" and request.method == "GET":
            scope.setdefault("state", {})["identity"] = Identity()
            await self.app(scope, receive, send)
            return
        authenticator: RequestAuthenticator = request.app.state.authenticator
        try:
            identity = await authenticator.authenticate(request.headers)
        except ShopError as error:
            await shop_error_response(request, error)(scope, receive, send)
            return
        scope.setdefault("state", {})["identity"] = identity
        await self.app(scope, receive, send)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The CA bundle, loaded once per process and shared by every HTTP client that passes it
    as ``verify=`` (each app's, and the tests'): each ``httpx.AsyncClient()`` would load it
    anew (about 45 ms of CPU)."""
    return httpx.create_ssl_context()


def create_app(
    settings: ServiceSettings,
    *,
    schema: strawberry.Schema,
    context: ContextFactory,
    lifespan: Lifespan | None = None,
    routes: Sequence[BaseRoute] = (),
    verifier: Callable[[httpx.AsyncClient], AccessTokenVerifier] | None = None,
) -> Starlette:
    @contextlib.asynccontextmanager
    async def kit_lifespan(app: Starlette) -> AsyncIterator[None]:
        configure_logging(settings.service_name, settings.log_level)
        async with httpx.AsyncClient(verify=tls_context()) as http:
            app.state.settings = settings
            app.state.http = http
            app.state.readiness = {}
            if settings.events_enabled:
                app.state.readiness["kafka"] = tcp_check(settings.kafka_bootstrap)
            token_verifier = (
                verifier(http)
                if verifier is not None
                else AccessTokenVerifier(
                    issuer=settings.jwt_issuer,
                    audience=settings.jwt_audience,
                    jwks_url=settings.jwks_url,
                    http=http,
                )
            )
            app.state.authenticator = RequestAuthenticator(settings, token_verifier)
            try:
                if lifespan is None:
                    yield
                else:
                    async with lifespan(app):
                        yield
            finally:
                flush_traces()

    configure_tracing(settings.service_name, settings.tracing_endpoint)
    graphql_app = _GraphQLApp(schema, context)
    app = Starlette(
        routes=[
            Route("/graphql", graphql_app, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            *routes,
        ],
        lifespan=kit_lifespan,
        exception_handlers={ShopError: _handle_shop_error},
    )
    app.add_middleware(AuthenticationMiddleware)
    app.add_middleware(MetricsMiddleware, service=settings.service_name)
    app.add_middleware(RequestIdMiddleware)
    trace_requests(app)
    return app
