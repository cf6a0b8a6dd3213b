"""Consumers of ``shop.payment``: payment.succeeded / failed / refunded move the order.

Payment event data: ``{"paymentId", "orderId", "customerId", "amount", "status",
"failureCode"?, "refundId"?}``; only ``orderId`` is read, unknown fields are ignored. Each
event applies once: the kit's inbox drops plain redeliveries, and the event id is recorded in
the order's ``applied_events`` in the same conditional batch as the transition, so even a
redelivery racing the first delivery changes nothing.
"""

from __future__ import annotations

import logging

from shopkit.events import CloudEvent
from shopkit.events.kafka import Handler
from subgraphs.orders.domain.transitions import PaymentOutcome
from subgraphs.orders.service.orders import OrderService

log = logging.getLogger(__name__)


def payment_handlers(service: OrderService) -> dict[str, Handler]:
    async def on_payment(event: CloudEvent) -> None:
        order_id = event.data.get("orderId")
        if not isinstance(order_id, str) or not order_id:
            log.error("payment event without an order id", extra={"event_id": event.id})
            return
        await service.apply_payment(event.id, PaymentOutcome(event.type), order_id)

    return {outcome.value: on_payment for outcome in PaymentOutcome}
