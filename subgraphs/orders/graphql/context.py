"""The request context: the caller, the order service and per-request loaders."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from shopkit.auth import Identity
from shopkit.graphql import RequestContext
from subgraphs.orders.graphql.loaders import Loaders
from subgraphs.orders.service.orders import OrderService
from subgraphs.orders.service.status_feed import OrderStatusFeed


@dataclass
class OrdersContext(RequestContext):
    service: OrderService
    loaders: Loaders
    status_feed: OrderStatusFeed


def make_context(request: Request, response: Response | None, identity: Identity) -> OrdersContext:
    service: OrderService = request.app.state.orders
    return OrdersContext.for_request(
        request,
        response,
        identity,
        service=service,
        loaders=Loaders(service, identity),
        status_feed=request.app.state.status_feed,
    )
