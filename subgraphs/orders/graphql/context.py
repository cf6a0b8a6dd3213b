"""The request context: the caller, the order service and per-request loaders."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from shopkit.auth import Identity
from shopkit.graphql import RequestContext
from subgraphs.orders.graphql.loaders import Loaders
from subgraphs.orders.service.orders import OrderService


@dataclass
class OrdersContext(RequestContext):
    service: OrderService = field(default=None)  # type: ignore[assignment]
    loaders: Loaders = field(default=None)  # type: ignore[assignment]


def make_context(request: Request, response: Response | None, identity: Identity) -> OrdersContext:
    service: OrderService = request.app.state.orders
    return OrdersContext(
        request=request,
        response=response,
        identity=identity,
        settings=request.app.state.settings,
        service=service,
        loaders=Loaders(service, identity),
    )
