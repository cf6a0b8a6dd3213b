"""Per-request DataLoaders, built in the context: all item references of one request are
fetched with one MongoDB query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from subgraphs.items.domain.model import Item
from subgraphs.items.service.items import ItemService


@dataclass
class Loaders:
    item: DataLoader[str, Item]


def build_loaders(items: ItemService) -> Loaders:
    async def load_items(ids: Sequence[str]) -> Sequence[Item | BaseException]:
        return await items.get_many(ids)

    return Loaders(item=DataLoader(load_fn=load_items))
