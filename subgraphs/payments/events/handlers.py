"""What payments does with other services' events: refund a cancelled order's payment."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from shopkit.events import CloudEvent
from subgraphs.payments.domain.events import ORDER_CANCELLED
from subgraphs.payments.service.payments import PaymentService

log = logging.getLogger(__name__)


def handlers(service: PaymentService) -> dict[str, Callable[[CloudEvent], Awaitable[None]]]:
    async def order_cancelled(event: CloudEvent) -> None:
        order_id = event.data.get("orderId") or event.subject
        if not order_id:
            log.error("order.cancelled without an order id", extra={"event_id": event.id})
            return
        refunded = await service.order_cancelled(str(order_id), event.id)
        if refunded is not None:
            log.info("refunded a cancelled order", extra={"order_id": order_id})

    return {ORDER_CANCELLED: order_cancelled}
