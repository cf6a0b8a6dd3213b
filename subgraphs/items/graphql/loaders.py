"""Per-request DataLoaders, built in the context: all item references of one request are
fetched with one MongoDB query. A missing item loads as None (docs/api-conventions.md, "Not
found"); a malformed id stays an error."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from shopkit.errors import NotFound
from subgraphs.items.domain.model import Item
from subgraphs.items.service.items import ItemService


@dataclass
class Loaders:
    item: DataLoader[str, Item | None]


def build_loaders(items: ItemService) -> Loaders:
    async def load_items(ids: Sequence[str]) -> Sequence[Item | BaseException | None]:
        found = await items.get_many(ids)
        return [None if isinstance(one, NotFound) else one for one in found]

    return Loaders(item=DataLoader(load_fn=load_items))
