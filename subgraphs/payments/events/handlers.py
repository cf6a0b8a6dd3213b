"""What payments does with other services' events (topic ``shop.order``):

* ``order.cancelled``: refund whatever the cancelled order captured.
* ``order.payment_refused``: orders did not accept a payment because its amount is not the
  order's total (the order changed while it was being paid): refund that payment and free the
  order for a payment of its new total. Data: ``{"orderId", "customerId", "paymentId",
  "amount", "total", "reason"}``; payments reads ``orderId`` and ``paymentId``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from shopkit.events import CloudEvent
from subgraphs.payments.domain.events import ORDER_CANCELLED, ORDER_PAYMENT_REFUSED
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

    async def payment_refused(event: CloudEvent) -> None:
        order_id = event.data.get("orderId") or event.subject
        payment_id = event.data.get("paymentId")
        if not isinstance(order_id, str) or not order_id or not isinstance(payment_id, str):
            log.error("order.payment_refused without its ids", extra={"event_id": event.id})
            return
        refunded = await service.payment_refused(order_id, payment_id)
        if refunded is not None:
            log.info(
                "refunded a payment orders refused",
                extra={"order_id": order_id, "payment_id": payment_id},
            )

    return {ORDER_CANCELLED: order_cancelled, ORDER_PAYMENT_REFUSED: payment_refused}
