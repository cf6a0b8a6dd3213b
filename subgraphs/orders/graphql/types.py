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

from shopkit.entities import entity_or_none
from shopkit.graphql_types import Address, Connection, Money
from shopkit.paging import PAGE_DEFAULT, page_of_list
from subgraphs.orders.domain import model

if TYPE_CHECKING:
    from subgraphs.orders.graphql.context import OrdersContext


# The domain's enum is the GraphQL enum: registered here, not copied.
strawberry.enum(model.OrderStatus, name="OrderStatus")


@strawberry.federation.type(keys=[Key(fields=FieldSet("id"), resolvable=False)])
class Item:
    id: strawberry.ID


@strawberry.type(
    description="A line as it was ordered: the item's name, UPC and unit price then. `item` is "
    "the catalogue's item today, null once it is deleted; the line still answers."
)
class OrderLine:
    item: Item | None
    name: str | None = strawberry.field(
        description="The item's name when ordered (null only for orders placed before names "
        "were kept)."
    )
    upc: str | None = strawberry.field(description="The item's UPC when ordered.")
    quantity: int
    unit_price: Money = strawberry.field(description="The unit price captured when ordered.")
    line_total: Money


@strawberry.type
class OrderStatusChange:
    status: model.OrderStatus
    at: datetime
    reason: str | None

    @classmethod
    def of(cls, change: model.HistoryEntry) -> OrderStatusChange:
        return cls(status=change.status, at=change.at, reason=change.reason)


@strawberry.federation.type(keys=["id"])
class Order:
    id: strawberry.ID
    status: model.OrderStatus
    lines: list[OrderLine]
    total: Money
    customer: Account
    shipping_address: Address | None = strawberry.field(
        description="The shipping address as it was when the order was placed; null when none "
        "was given, or for an order placed before addresses had one rule whose stored address "
        "lacks line1, city or country."
    )
    created_at: datetime
    updated_at: datetime
    changes: strawberry.Private[tuple[model.HistoryEntry, ...]]

    @strawberry.field(description="Its status changes, oldest first.")
    def history(
        self, first: int = PAGE_DEFAULT, after: str | None = None
    ) -> Connection[OrderStatusChange]:
        page = page_of_list(self.changes, kind="history", first=first, after=after)
        return Connection.of(page, OrderStatusChange.of)

    @classmethod
    def of(cls, order: model.Order) -> Order:
        return cls(
            id=strawberry.ID(order.id),
            status=order.status,
            lines=[
                OrderLine(
                    item=Item(id=strawberry.ID(line.item_id)),
                    name=line.name,
                    upc=line.upc,
                    quantity=line.quantity,
                    unit_price=Money.of(line.unit_price),
                    line_total=Money.of(line.line_total),
                )
                for line in order.lines
            ],
            total=Money.of(order.total),
            customer=Account(id=strawberry.ID(order.customer_id)),
            shipping_address=Address.of(order.shipping_address),
            created_at=order.created_at,
            updated_at=order.updated_at,
            changes=order.history,
        )

    @classmethod
    async def resolve_reference(
        cls, info: strawberry.Info[OrdersContext], id: strawberry.ID
    ) -> Order | None:
        return await entity_or_none(info.context.loaders.order, id, cls.of)


@strawberry.federation.type(keys=["id"])
class Account:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Account:
        return cls(id=id)

    @strawberry.field(description="The account's orders, newest first (self, admin, service).")
    async def orders(
        self,
        info: strawberry.Info[OrdersContext],
        first: int = PAGE_DEFAULT,
        after: str | None = None,
    ) -> Connection[Order]:
        page = await info.context.service.customer_orders(
            info.context.identity, str(self.id), first, after
        )
        return Connection.of(page, Order.of)
