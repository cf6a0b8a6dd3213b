"""Queries: one payment, or an order's payments (owner, admin or service)."""

from __future__ import annotations

import strawberry

from shopkit.graphql_types import Connection
from shopkit.paging import PAGE_DEFAULT
from subgraphs.payments.graphql.types import Info, Payment, payment_type, payments_of_order


@strawberry.type
class Query:
    @strawberry.field(description="The payment; null if there is none the caller may read.")
    async def payment(self, info: Info, id: strawberry.ID) -> Payment | None:
        payment = await info.context.service.find(info.context.identity, str(id))
        return payment_type(payment) if payment is not None else None

    @strawberry.field(description="All attempts, oldest first; none for another's order.")
    async def payments_for_order(
        self,
        info: Info,
        order_id: strawberry.ID,
        first: int = PAGE_DEFAULT,
        after: str | None = None,
    ) -> Connection[Payment]:
        return await payments_of_order(info, str(order_id), first, after)
