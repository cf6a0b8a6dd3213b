"""Write operations: catalog administration (ADMIN) and the internal stock reservations the
orders service calls (``@inaccessible``, service credential only). Who may call each is
checked by the service it calls."""

from __future__ import annotations

import strawberry

from shopkit.graphql import given
from subgraphs.items.graphql.context import ItemsContext
from subgraphs.items.graphql.types import (
    CreateItemInput,
    Item,
    Reservation,
    StockLineInput,
    UpdateItemInput,
)

Info = strawberry.Info[ItemsContext]


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_item(self, info: Info, input: CreateItemInput) -> Item:
        amount, currency = input.unit_price.pair()
        item = await info.context.items.create(
            info.context.identity,
            upc=input.upc,
            name=input.name,
            description=input.description,
            price_amount=amount,
            price_currency=currency,
            image_urls=input.image_urls,
            attributes=input.attributes,
            stock=input.stock,
        )
        return Item.from_domain(item)

    @strawberry.mutation
    async def update_item(self, info: Info, id: strawberry.ID, input: UpdateItemInput) -> Item:
        input.refuse_nulls()
        price = given(input.unit_price)
        item = await info.context.items.update(
            info.context.identity,
            str(id),
            upc=given(input.upc),
            name=given(input.name),
            description=given(input.description),
            price=price.pair() if price is not None else None,
            image_urls=given(input.image_urls),
            attributes=given(input.attributes),
        )
        return Item.from_domain(item)

    @strawberry.mutation
    async def delete_item(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        deleted = await info.context.items.delete(info.context.identity, str(id))
        return strawberry.ID(deleted.id)

    @strawberry.mutation
    async def restock_item(self, info: Info, id: strawberry.ID, quantity: int) -> Item:
        item = await info.context.items.restock(info.context.identity, str(id), quantity)
        return Item.from_domain(item)

    @strawberry.federation.mutation(inaccessible=True)
    async def reserve_stock(
        self, info: Info, order_id: strawberry.ID, lines: list[StockLineInput]
    ) -> Reservation:
        reservation = await info.context.inventory.reserve_stock(
            info.context.identity,
            str(order_id),
            [(str(line.item_id), line.quantity) for line in lines],
        )
        return Reservation.from_domain(reservation)

    @strawberry.federation.mutation(inaccessible=True)
    async def release_stock(self, info: Info, order_id: strawberry.ID) -> Reservation:
        reservation = await info.context.inventory.release_stock(
            info.context.identity, str(order_id)
        )
        return Reservation.from_domain(reservation)

    @strawberry.federation.mutation(inaccessible=True)
    async def commit_stock(self, info: Info, order_id: strawberry.ID) -> Reservation:
        reservation = await info.context.inventory.commit_stock(
            info.context.identity, str(order_id)
        )
        return Reservation.from_domain(reservation)
