"""Queries: ``order(id)`` and ``myOrders``."""

from __future__ import annotations

import strawberry

from shopkit.entities import entity_or_none
from shopkit.graphql_types import Connection
from shopkit.paging import PAGE_DEFAULT
from subgraphs.orders.graphql.context import OrdersContext
from subgraphs.orders.graphql.types import Order


@strawberry.type
class Query:
    @strawberry.field(
        description="An order its owner, an admin or a service may read; null otherwise, as "
        "for an order that does not exist."
    )
    async def order(self, info: strawberry.Info[OrdersContext], id: strawberry.ID) -> Order | None:
        return await entity_or_none(info.context.loaders.order, id, Order.of)

    @strawberry.field(description="The caller's orders, newest first.")
    async def my_orders(
        self,
        info: strawberry.Info[OrdersContext],
        first: int = PAGE_DEFAULT,
        after: str | None = None,
    ) -> Connection[Order]:
        page = await info.context.service.my_orders(info.context.identity, first, after)
        return Connection.of(page, Order.of)
