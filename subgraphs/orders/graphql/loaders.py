"""Per-request DataLoaders: orders by id as the caller may see them (None otherwise)."""

from __future__ import annotations

import asyncio

from strawberry.dataloader import DataLoader

from shopkit.auth import Identity
from subgraphs.orders.domain.model import Order
from subgraphs.orders.service.orders import OrderService


class Loaders:
    def __init__(self, service: OrderService, identity: Identity) -> None:
        async def load_orders(ids: list[str]) -> list[Order | None]:
            return list(await asyncio.gather(*(service.find_order(identity, i) for i in ids)))

        self.order = DataLoader(load_fn=load_orders)
