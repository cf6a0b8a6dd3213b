"""Subscriptions: ``orderStatusChanged(orderId)`` (``service/status_feed.py``), served over
Server-Sent Events to the gateway, which serves clients over SSE and WebSocket."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from subgraphs.orders.graphql.context import OrdersContext
from subgraphs.orders.graphql.types import Order


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description=(
            "The order now, then each status it moves to; ends after COMPLETED, REFUNDED or "
            "an unpaid order's CANCELLED (owner or admin)."
        )
    )
    async def order_status_changed(
        self, info: strawberry.Info[OrdersContext], order_id: strawberry.ID
    ) -> AsyncGenerator[Order, None]:
        async for order in info.context.status_feed.follow(info.context.identity, str(order_id)):
            yield Order.of(order)
