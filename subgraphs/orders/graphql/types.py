"""GraphQL types of orders, built from the domain model.

``Item`` is a stub of the items subgraph's entity (only its key, not resolvable here);
``Account`` is the accounts entity, to which this subgraph contributes ``orders``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet

from shopkit.graphql_types import Money
from subgraphs.orders.domain import model

if TYPE_CHECKING:
    from subgraphs.orders.graphql.context import OrdersContext


# The domain's enum is the GraphQL enum: registered here, not copied.
strawberry.enum(model.OrderStatus, name="OrderStatus")


@strawberry.federation.type(keys=[Key(fields=FieldSet("id"), resolvable=False)])
class Item:
    id: strawberry.ID


@strawberry.type(description="The shipping address as it was when the order was placed.")
class ShippingAddress:
    line1: str | None
    line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str | None


@strawberry.type
class OrderLine:
    item: Item
    name: str | None = strawberry.field(description="The item's name when ordered.")
    quantity: int
    unit_price: Money = strawberry.field(description="The unit price captured when ordered.")
    line_total: Money


@strawberry.type
class OrderStatusChange:
    status: model.OrderStatus
    at: datetime
    reason: str | None


@strawberry.federation.type(keys=["id"])
class Order:
    id: strawberry.ID
    status: model.OrderStatus
    lines: list[OrderLine]
    total: Money
    customer: Account
    shipping_address: ShippingAddress | None
    created_at: datetime
    updated_at: datetime
    history: list[OrderStatusChange]

    @classmethod
    def of(cls, order: model.Order) -> Order:
        address = order.shipping_address
        return cls(
            id=strawberry.ID(order.id),
            status=order.status,
            lines=[
                OrderLine(
                    item=Item(id=strawberry.ID(line.item_id)),
                    name=line.name,
                    quantity=line.quantity,
                    unit_price=Money.of(line.unit_price),
                    line_total=Money.of(line.line_total),
                )
                for line in order.lines
            ],
            total=Money.of(order.total),
            customer=Account(id=strawberry.ID(order.customer_id)),
            shipping_address=ShippingAddress(**vars(address)) if address else None,
            created_at=order.created_at,
            updated_at=order.updated_at,
            history=[
                OrderStatusChange(status=h.status, at=h.at, reason=h.reason) for h in order.history
            ],
        )

    @classmethod
    async def resolve_reference(
        cls, info: strawberry.Info[OrdersContext], id: strawberry.ID
    ) -> Order | None:
        order = await info.context.loaders.order.load(str(id))
        return cls.of(order) if order is not None else None


@strawberry.type
class OrderConnection:
    nodes: list[Order]
    end_cursor: str | None
    has_next_page: bool


@strawberry.federation.type(keys=["id"])
class Account:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Account:
        return cls(id=id)

    @strawberry.field(description="The account's orders, newest first (self, admin, service).")
    async def orders(
        self, info: strawberry.Info[OrdersContext], first: int = 10, after: str | None = None
    ) -> OrderConnection:
        orders, cursor = await info.context.service.customer_orders(
            info.context.identity, str(self.id), first, after
        )
        return order_connection(orders, cursor)


def order_connection(orders: list[model.Order], cursor: str | None) -> OrderConnection:
    return OrderConnection(
        nodes=[Order.of(o) for o in orders], end_cursor=cursor, has_next_page=cursor is not None
    )
