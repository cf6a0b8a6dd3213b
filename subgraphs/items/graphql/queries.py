"""Read operations: the catalog with cursor pagination, one item by id or UPC."""

from __future__ import annotations

import strawberry

from shopkit.graphql_types import PageInfo
from subgraphs.items.graphql.context import ItemsContext
from subgraphs.items.graphql.types import Item, ItemConnection, ItemEdge
from subgraphs.items.service.items import encode_cursor

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
    ) -> ItemConnection:
        page = await info.context.items.list(first=first, after=after, search=search)
        return ItemConnection(
            edges=[
                ItemEdge(cursor=encode_cursor(item.id), node=Item.from_domain(item))
                for item in page.items
            ],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )

    @strawberry.field
    async def item(self, info: Info, id: strawberry.ID) -> Item:
        return Item.from_domain(await info.context.loaders.item.load(str(id)))

    @strawberry.field
    async def item_by_upc(self, info: Info, upc: str) -> Item:
        return Item.from_domain(await info.context.items.get_by_upc(upc))
