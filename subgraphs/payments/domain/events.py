"""The payment events, past-tense records of what happened to a payment, and their ``data``
(``events/schemas/<type>.json``). They are keyed by the payment's order (their
``aggregate_id``), so that orders reads an order's payment events in the order they happened.
``shopkit.events.cloud_event`` turns them into CloudEvents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from subgraphs.payments.domain.model import Payment, PaymentStatus, Refund

PRODUCER = "payments"

# Consumed from orders (topic shop.order): a cancelled order is refunded; a payment whose
# amount no longer matched the order's total is refunded and the order may be paid again.
ORDER_CANCELLED = "order.cancelled"
ORDER_PAYMENT_REFUSED = "order.payment_refused"


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


@dataclass(frozen=True)
class PaymentEvent:
    type: ClassVar[str]
    payment: Payment

    @property
    def aggregate_id(self) -> str:
        return self.payment.order_id

    def data(self) -> dict[str, Any]:
        payment = self.payment
        return {
            "paymentId": payment.id,
            "orderId": payment.order_id,
            "customerId": payment.customer_id,
            "amount": _money(payment.amount, payment.currency),
            "status": payment.status.value,
        }


class PaymentSucceeded(PaymentEvent):
    type = "payment.succeeded"


class PaymentFailed(PaymentEvent):
    type = "payment.failed"

    def data(self) -> dict[str, Any]:
        return {
            **super().data(),
            "failureCode": self.payment.failure_code or "processing_error",
            "failureMessage": self.payment.failure_message or "",
        }


@dataclass(frozen=True)
class PaymentRefunded(PaymentEvent):
    type = "payment.refunded"
    refund: Refund

    def data(self) -> dict[str, Any]:
        currency = self.payment.currency
        return {
            **super().data(),
            "refundId": self.refund.id,
            "refundedAmount": _money(self.refund.amount, currency),
            "totalRefunded": _money(self.payment.refunded, currency),
        }


PRODUCES = (PaymentSucceeded.type, PaymentFailed.type, PaymentRefunded.type)


def charged(payment: Payment) -> PaymentSucceeded | PaymentFailed:
    """The outcome of an attempt's charge."""
    if payment.status is PaymentStatus.FAILED:
        return PaymentFailed(payment)
    return PaymentSucceeded(payment)
