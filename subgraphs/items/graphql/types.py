"""GraphQL object and input types, and their conversion from the domain."""

from __future__ import annotations

from typing import cast

import strawberry
from strawberry.scalars import JSON

from shopkit.entities import entity_or_none
from shopkit.graphql import refuse_null
from shopkit.graphql_types import Money, MoneyInput
from subgraphs.items.domain import model, reservation


@strawberry.type
class Availability:
    available: int
    in_stock: bool


@strawberry.federation.type(keys=["id"], description="A catalog item.")
class Item:
    id: strawberry.ID
    upc: str
    name: str
    description: str
    unit_price: Money
    image_urls: list[str]
    attributes: JSON
    availability: Availability

    @classmethod
    def from_domain(cls, item: model.Item) -> Item:
        return cls(
            id=strawberry.ID(item.id),
            upc=item.upc,
            name=item.name,
            description=item.description,
            unit_price=Money.of(item.unit_price),
            image_urls=list(item.image_urls),
            attributes=cast(JSON, item.attributes),
            availability=Availability(available=item.available, in_stock=item.in_stock),
        )

    @classmethod
    async def resolve_reference(cls, info: strawberry.Info, id: strawberry.ID) -> Item | None:
        return await entity_or_none(info.context.loaders.item, id, cls.from_domain)


@strawberry.input
class CreateItemInput:
    upc: str
    name: str
    unit_price: MoneyInput
    description: str | None = None
    image_urls: list[str] | None = None
    attributes: JSON | None = None
    stock: int = 0


@strawberry.input(
    description="The fields to change: omitted fields stay as they are; none can be cleared "
    "(null is refused)."
)
class UpdateItemInput:
    upc: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    unit_price: MoneyInput | None = strawberry.UNSET
    image_urls: list[str] | None = strawberry.UNSET
    attributes: JSON | None = strawberry.UNSET

    def refuse_nulls(self) -> None:
        refuse_null(self, "upc", "name", "description", "unit_price", "image_urls", "attributes")


# The domain's enum is the GraphQL enum: registered here, not copied.
strawberry.federation.enum(
    reservation.ReservationStatus, name="ReservationStatus", inaccessible=True
)


@strawberry.federation.input(inaccessible=True)
class StockLineInput:
    item_id: strawberry.ID
    quantity: int


@strawberry.federation.type(inaccessible=True)
class ReservationLine:
    item_id: strawberry.ID
    name: str
    upc: str
    quantity: int
    unit_price: Money


@strawberry.federation.type(inaccessible=True)
class Reservation:
    order_id: strawberry.ID
    status: reservation.ReservationStatus
    lines: list[ReservationLine]

    @classmethod
    def from_domain(cls, held: reservation.Reservation) -> Reservation:
        return cls(
            order_id=strawberry.ID(held.order_id),
            status=held.status,
            lines=[
                ReservationLine(
                    item_id=strawberry.ID(line.item_id),
                    name=line.name,
                    upc=line.upc,
                    quantity=line.quantity,
                    unit_price=Money.of(line.unit_price),
                )
                for line in held.lines
            ],
        )
