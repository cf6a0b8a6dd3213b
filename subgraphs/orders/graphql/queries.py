"""Queries: ``order(id)`` and ``myOrders``."""

from __future__ import annotations

import strawberry

from subgraphs.orders.graphql.context import OrdersContext
from subgraphs.orders.graphql.types import Order, OrderConnection, order_connection


@strawberry.type
class Query:
    @strawberry.field(description="An order: its owner, an admin or a service may read it.")
    async def order(self, info: strawberry.Info[OrdersContext], id: strawberry.ID) -> Order:
        return Order.of(await info.context.service.get_order(info.context.identity, str(id)))

    @strawberry.field(description="Newest first.")
    async def my_orders(
        self, info: strawberry.Info[OrdersContext], first: int = 10, after: str | None = None
    ) -> OrderConnection:
        orders, cursor = await info.context.service.my_orders(info.context.identity, first, after)
        return order_connection(orders, cursor)
