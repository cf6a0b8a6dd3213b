"""Write operations: catalog administration (ADMIN) and the internal stock reservations the
orders service calls (``@inaccessible``, service credential only)."""

from __future__ import annotations

import strawberry

from shopkit.graphql import IsAdmin, IsService
from subgraphs.items.domain.model import item_changes, new_item
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
    @strawberry.mutation(permission_classes=[IsAdmin])
    async def create_item(self, info: Info, input: CreateItemInput) -> Item:
        amount, currency = input.unit_price.pair()
        draft = new_item(
            upc=input.upc,
            name=input.name,
            description=input.description,
            price_amount=amount,
            price_currency=currency,
            image_urls=input.image_urls,
            attributes=input.attributes,
            stock=input.stock,
        )
        return Item.from_domain(await info.context.items.create(draft))

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def update_item(self, info: Info, id: strawberry.ID, input: UpdateItemInput) -> Item:
        changes = item_changes(
            upc=input.upc,
            name=input.name,
            description=input.description,
            price=input.unit_price.pair() if input.unit_price else None,
            image_urls=input.image_urls,
            attributes=input.attributes,
        )
        return Item.from_domain(await info.context.items.update(str(id), changes))

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def delete_item(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        deleted = await info.context.items.delete(str(id))
        return strawberry.ID(deleted.id)

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def restock_item(self, info: Info, id: strawberry.ID, quantity: int) -> Item:
        return Item.from_domain(await info.context.items.restock(str(id), quantity))

    @strawberry.federation.mutation(inaccessible=True, permission_classes=[IsService])
    async def reserve_stock(
        self, info: Info, order_id: strawberry.ID, lines: list[StockLineInput]
    ) -> Reservation:
        reservation = await info.context.inventory.reserve(
            str(order_id), [(str(line.item_id), line.quantity) for line in lines]
        )
        return Reservation.from_domain(reservation)

    @strawberry.federation.mutation(inaccessible=True, permission_classes=[IsService])
    async def release_stock(self, info: Info, order_id: strawberry.ID) -> Reservation:
        return Reservation.from_domain(await info.context.inventory.release(str(order_id)))

    @strawberry.federation.mutation(inaccessible=True, permission_classes=[IsService])
    async def commit_stock(self, info: Info, order_id: strawberry.ID) -> Reservation:
        return Reservation.from_domain(await info.context.inventory.commit(str(order_id)))
