"""Consumers of ``shop.payment``: payment.succeeded / failed / refunded move the order.

Payment event data: ``{"paymentId", "orderId", "customerId", "amount": {"amount",
"currency"}, "status", "failureCode"?, "refundId"?}``; ``orderId`` is read, and for
``payment.succeeded`` also ``paymentId`` and ``amount`` (what was charged: it pays the order
only if it equals the order's total, see ``domain/payments.py``); unknown fields are ignored.
Each event applies once: the kit's inbox drops plain redeliveries, and the event id (and a
succeeded payment's id) is recorded in the order's ``applied_events`` in the same conditional
batch as the transition, so even a redelivery racing the first delivery changes nothing.

A ``payment.succeeded`` without a readable ``paymentId`` or ``amount`` can never be applied:
it is refused with an error (the consumer parks it) and the order stays unpaid until the
sweep of unpaid orders reads the payment from payments itself.
"""

from __future__ import annotations

import logging
from typing import Any

from shopkit.errors import InvalidInput
from shopkit.events import CloudEvent
from shopkit.events.kafka import Handler
from subgraphs.orders.domain.model import Money
from subgraphs.orders.domain.transitions import PaymentOutcome
from subgraphs.orders.service.orders import OrderService

log = logging.getLogger(__name__)


def charged(data: dict[str, Any]) -> Money | None:
    """The ``amount`` of a payment event, or None if it is missing or malformed."""
    raw = data.get("amount")
    if not isinstance(raw, dict):
        return None
    amount, currency = raw.get("amount"), raw.get("currency")
    if isinstance(amount, bool) or not isinstance(amount, int) or not isinstance(currency, str):
        return None
    return Money(amount, currency)


def payment_handlers(service: OrderService) -> dict[str, Handler]:
    async def on_payment(event: CloudEvent) -> None:
        order_id = event.data.get("orderId")
        if not isinstance(order_id, str) or not order_id:
            log.error("payment event without an order id", extra={"event_id": event.id})
            return
        outcome = PaymentOutcome(event.type)
        payment_id = event.data.get("paymentId")
        amount = charged(event.data)
        if outcome is PaymentOutcome.SUCCEEDED and (
            not isinstance(payment_id, str) or not payment_id or amount is None
        ):
            log.error(
                "payment.succeeded without a payment id or amount",
                extra={"event_id": event.id, "order_id": order_id},
            )
            raise InvalidInput(f"payment.succeeded {event.id} has no paymentId or amount.")
        await service.apply_payment(
            event.id,
            outcome,
            order_id,
            payment_id=payment_id if isinstance(payment_id, str) else None,
            amount=amount,
        )

    return {outcome.value: on_payment for outcome in PaymentOutcome}
