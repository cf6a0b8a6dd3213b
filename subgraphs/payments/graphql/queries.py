"""Queries: one payment, or an order's payments (owner, admin or service)."""

from __future__ import annotations

import strawberry

from subgraphs.payments.graphql.types import Info, Payment, payment_type


@strawberry.type
class Query:
    @strawberry.field
    async def payment(self, info: Info, id: strawberry.ID) -> Payment:
        return payment_type(await info.context.service.get(info.context.identity, str(id)))

    @strawberry.field(description="All attempts, oldest first.")
    async def payments_for_order(self, info: Info, order_id: strawberry.ID) -> list[Payment]:
        attempts = await info.context.loaders.payments_by_order.load(str(order_id))
        return [payment_type(p) for p in attempts]
