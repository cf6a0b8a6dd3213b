"""Mutations: create, update, cancel and complete orders (who may: ``service/orders.py``)."""

from __future__ import annotations

import strawberry

from shopkit.graphql_types import AddressInput
from subgraphs.orders.domain.model import LineRequest
from subgraphs.orders.graphql.context import OrdersContext
from subgraphs.orders.graphql.types import Order


@strawberry.input
class OrderLineInput:
    item_id: strawberry.ID
    quantity: int


@strawberry.input(description="Lines naming the same item twice are merged (quantities add).")
class CreateOrderInput:
    lines: list[OrderLineInput]
    shipping_address: AddressInput | None = None
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Resubmitting with the same key (within 24 h) returns the first order; "
        "the key with other lines or address is refused (IDEMPOTENCY_KEY_REUSED). At most 255 "
        "characters, scoped to the customer.",
    )


@strawberry.input
class UpdateOrderInput:
    lines: list[OrderLineInput]


def _lines(lines: list[OrderLineInput]) -> list[LineRequest]:
    return [LineRequest(str(line.item_id), line.quantity) for line in lines]


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_order(
        self, info: strawberry.Info[OrdersContext], input: CreateOrderInput
    ) -> Order:
        order = await info.context.service.create_order(
            info.context.identity,
            _lines(input.lines),
            input.shipping_address.raw() if input.shipping_address else None,
            input.idempotency_key,
        )
        return Order.of(order)

    @strawberry.mutation
    async def update_order(
        self, info: strawberry.Info[OrdersContext], id: strawberry.ID, input: UpdateOrderInput
    ) -> Order:
        order = await info.context.service.update_order(
            info.context.identity, str(id), _lines(input.lines)
        )
        return Order.of(order)

    @strawberry.mutation
    async def cancel_order(
        self, info: strawberry.Info[OrdersContext], id: strawberry.ID, reason: str | None = None
    ) -> Order:
        order = await info.context.service.cancel_order(info.context.identity, str(id), reason)
        return Order.of(order)

    @strawberry.mutation
    async def complete_order(
        self, info: strawberry.Info[OrdersContext], id: strawberry.ID
    ) -> Order:
        return Order.of(await info.context.service.complete_order(info.context.identity, str(id)))
