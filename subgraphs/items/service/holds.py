"""The orphan-hold sweep: stock held for an order that does not exist or has ended is given
back (or sold, if the order was paid), after a grace period, whatever went wrong on the way —
a ``reserveStock`` whose answer orders never got, an orders process killed after reserving, a
``releaseStock`` that failed, a lost event. The rules are in ``domain/holds.py``; orders is
asked about each hold (``OrdersClient``), and a hold is only ever released on its answer."""

from __future__ import annotations

import logging
from collections import Counter

from shopkit.errors import ShopError
from subgraphs.items.domain.holds import HoldVerdict, hold_verdict
from subgraphs.items.service.inventory import InventoryService
from subgraphs.items.service.orders import OrdersClient

log = logging.getLogger(__name__)

REVIEW_BATCH = 100


class OrphanHoldSweep:
    def __init__(self, inventory: InventoryService, orders: OrdersClient) -> None:
        self.inventory = inventory
        self.orders = orders

    async def run(self) -> Counter[str]:
        """Reviews the holds that are due; answers how many got each verdict (and how many
        could not be asked about: ``unknown``)."""
        outcome: Counter[str] = Counter()
        for stored in await self.inventory.holds_to_review(REVIEW_BATCH):
            order_id = stored.order_id
            try:
                order = await self.orders.find(order_id)
            except ShopError as exc:
                log.warning(
                    "could not ask orders about a held reservation; keeping it",
                    extra={"order_id": order_id, "error": exc.message},
                )
                outcome["unknown"] += 1
                continue
            verdict = hold_verdict(order)
            try:
                if verdict is HoldVerdict.RELEASE:
                    await self.inventory.release(order_id)
                elif verdict is HoldVerdict.COMMIT:
                    assert order is not None
                    await self.inventory.commit(order_id, order.lines)
                else:
                    await self.inventory.keep_hold(stored)
            except ShopError as exc:
                log.warning(
                    "a held reservation could not be settled; will try again",
                    extra={"order_id": order_id, "error": exc.message},
                )
            outcome[verdict.value] += 1
            if verdict is not HoldVerdict.KEEP:
                log.warning(
                    "an orphaned hold was settled by the sweep",
                    extra={
                        "order_id": order_id,
                        "verdict": verdict.value,
                        "order_status": order.status if order else None,
                    },
                )
        return outcome
