"""Read operations: the catalog with cursor pagination, one item by id or UPC."""

from __future__ import annotations

import strawberry

from shopkit.entities import entity_or_none
from shopkit.errors import NotFound
from shopkit.graphql_types import Connection
from subgraphs.items.graphql.context import ItemsContext
from subgraphs.items.graphql.types import Item

Info = strawberry.Info[ItemsContext]


@strawberry.type
class Query:
    @strawberry.field(description="Catalog items by ascending id; `search` matches the name.")
    async def items(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        search: str | None = None,
    ) -> Connection[Item]:
        page = await info.context.items.list(first=first, after=after, search=search)
        return Connection.of(page, Item.from_domain)

    @strawberry.field(description="The item; null if there is none with this id.")
    async def item(self, info: Info, id: strawberry.ID) -> Item | None:
        return await entity_or_none(info.context.loaders.item, id, Item.from_domain)

    @strawberry.field(description="The item with this UPC; null if there is none.")
    async def item_by_upc(self, info: Info, upc: str) -> Item | None:
        try:
            return Item.from_domain(await info.context.items.get_by_upc(upc))
        except NotFound:
            return None
