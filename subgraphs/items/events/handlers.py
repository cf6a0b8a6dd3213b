"""Consumers of the orders service's events: a cancelled order's reservation is released,
a paid order's is committed with exactly the lines the order was paid for (``data.lines``),
whatever the reservation held. Both are idempotent, so a redelivered event has no second
effect even before the inbox drops it."""

from __future__ import annotations

import logging
from typing import Any

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
            await inventory.commit(order_id, paid_lines(event.data))
        except NotFound:
            log.warning("paid order has no reservation", extra={"order_id": order_id})
        except InvalidInput as exc:
            log.error(
                "order.paid cannot be read; nothing committed",
                extra={"order_id": order_id, "error": exc.message},
            )
        except Conflict:
            log.warning("paid order's reservation was released", extra={"order_id": order_id})

    return {ORDER_CANCELLED: on_order_cancelled, ORDER_PAID: on_order_paid}


def paid_lines(data: dict[str, Any]) -> list[tuple[str, Any]] | None:
    """The ``(itemId, quantity)`` pairs of an ``order.paid`` event; None when it carries no
    lines (then the reservation is committed as held)."""
    lines = data.get("lines")
    if not lines:
        return None
    if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
        raise InvalidInput("order.paid lines must be a list of objects.", field="lines")
    return [(line.get("itemId"), line.get("quantity")) for line in lines]
