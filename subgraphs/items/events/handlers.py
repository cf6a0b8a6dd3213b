"""Consumers of the orders service's events: a cancelled order's reservation is released,
a paid order's is committed. Both are idempotent, so a redelivered event has no second
effect even before the inbox drops it."""

from __future__ import annotations

import logging

from shopkit.errors import Conflict, InvalidInput, NotFound
from shopkit.events import CloudEvent
from shopkit.events.kafka import Handler
from subgraphs.items.domain.events import ORDER_CANCELLED, ORDER_PAID
from subgraphs.items.service.inventory import InventoryService

log = logging.getLogger(__name__)


def order_handlers(inventory: InventoryService) -> dict[str, Handler]:
    async def on_order_cancelled(event: CloudEvent) -> None:
        order_id = str(event.data.get("orderId") or event.subject)
        try:
            await inventory.release(order_id)
        except (NotFound, InvalidInput):
            log.info("no reservation to release", extra={"order_id": order_id})
        except Conflict:
            log.warning("cancelled order's stock was already sold", extra={"order_id": order_id})

    async def on_order_paid(event: CloudEvent) -> None:
        order_id = str(event.data.get("orderId") or event.subject)
        try:
            await inventory.commit(order_id)
        except (NotFound, InvalidInput):
            log.warning("paid order has no reservation", extra={"order_id": order_id})
        except Conflict:
            log.warning("paid order's reservation was released", extra={"order_id": order_id})

    return {ORDER_CANCELLED: on_order_cancelled, ORDER_PAID: on_order_paid}
